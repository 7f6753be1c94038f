"""INFO over TCP: sections, Redis's field names and format, and counters that move."""

import os
import re
import time

import pytest
import redis

import ember
from tests.rawclient import RawClient
from tests.servers import wait_until

DEFAULT_TITLES = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                  "Modules", "Errorstats", "Cluster", "Keyspace"]
ALL_TITLES = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
              "Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"]


def info_text(raw, *sections) -> str:
    return raw.call("INFO", *sections).decode()


def titles(text: str) -> list:
    return [line[2:] for line in text.split("\r\n") if line.startswith("# ")]


def fields(text: str) -> dict:
    out = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            name, _, value = line.partition(":")
            out[name] = value
    return out


def test_default_sections_and_format(raw):
    text = info_text(raw)
    assert titles(text) == DEFAULT_TITLES
    assert text.startswith("# Server\r\nredis_version:")
    assert text.endswith("\r\n")
    # Sections are separated by exactly one blank line, every other line is field:value.
    blocks = text.split("\r\n\r\n")
    assert [b.split("\r\n")[0] for b in blocks] == ["# " + t for t in DEFAULT_TITLES]
    for line in text.split("\r\n"):
        assert line == "" or line.startswith("# ") or re.fullmatch(r"[A-Za-z0-9_|-]+:.*", line), \
            line
    assert titles(info_text(raw, "default")) == DEFAULT_TITLES


def test_all_everything_and_chosen_sections(raw):
    assert titles(info_text(raw, "all")) == ALL_TITLES
    assert titles(info_text(raw, "everything")) == ALL_TITLES
    # Redis's order, whatever order they are asked in; names are case-insensitive.
    assert titles(info_text(raw, "CLIENTS", "server")) == ["Server", "Clients"]
    assert titles(info_text(raw, "commandstats", "default")) == ALL_TITLES[:8] + [
        "Commandstats", "Errorstats", "Cluster", "Keyspace"]
    assert raw.call_raw("INFO", "nosuchsection") == b"$0\r\n\r\n"


def test_server_section(raw, ember_server):
    server = fields(info_text(raw, "server"))
    assert server["redis_version"] == ember.REDIS_VERSION
    assert server["ember_version"] == ember.__version__
    assert server["redis_mode"] == "standalone"
    assert server["arch_bits"] in ("32", "64")
    assert re.fullmatch(r"[0-9a-f]{40}", server["run_id"])
    assert server["tcp_port"] == str(ember_server.port)
    assert server["process_id"] == str(ember_server.proc.pid)
    assert abs(int(server["server_time_usec"]) / 1e6 - time.time()) < 5
    assert int(server["uptime_in_seconds"]) >= 0 and server["uptime_in_days"] == "0"
    assert server["hz"] == server["configured_hz"] == "10"
    assert abs(int(server["lru_clock"]) - int(time.time()) % (1 << 24)) < 5
    assert server["io_threads_active"] == "0"
    assert server["listener0"].startswith("name=tcp,bind=")
    assert server["listener0"].endswith(",port=%d" % ember_server.port)
    # run_id is random per process but stable for it.
    assert fields(info_text(raw, "server"))["run_id"] == server["run_id"]


def test_clients_and_connections(raw, ember_server):
    before = fields(info_text(raw, "clients", "stats"))
    other = RawClient(ember_server.port)
    try:
        other.call("PING")
        after = fields(info_text(raw, "clients", "stats"))
        assert int(after["connected_clients"]) == int(before["connected_clients"]) + 1
        assert int(after["total_connections_received"]) == \
            int(before["total_connections_received"]) + 1
        assert after["maxclients"] == "10000"
        assert after["blocked_clients"] == "0"
    finally:
        other.close()


def test_keyspace_hits_misses_and_keyspace_section(r, raw):
    before = fields(info_text(raw, "stats"))
    r.set("k1", "v")
    r.set("k2", "v", ex=1000)
    r.get("k1")
    r.get("missing")
    after = fields(info_text(raw, "stats", "keyspace"))
    assert int(after["keyspace_hits"]) == int(before["keyspace_hits"]) + 1
    assert int(after["keyspace_misses"]) == int(before["keyspace_misses"]) + 1
    assert after["db0"] == "keys=2,expires=1,avg_ttl=0"
    r.execute_command("SELECT", 3)
    r.set("k3", "v")
    assert fields(info_text(raw, "keyspace"))["db3"] == "keys=1,expires=0,avg_ttl=0"


def test_expired_keys_counted(r, raw):
    before = int(fields(info_text(raw, "stats"))["expired_keys"])
    r.set("short", "v", px=1)
    assert wait_until(lambda: r.get("short") is None)
    assert int(fields(info_text(raw, "stats"))["expired_keys"]) == before + 1


def test_commandstats_and_errorstats(r, raw):
    before = fields(info_text(raw, "commandstats", "errorstats"))
    r.get("x")
    r.get("y")
    r.client_id()
    with pytest.raises(redis.ResponseError):
        r.execute_command("NOSUCHCMD")
    r.set("s", "v")
    with pytest.raises(redis.ResponseError):
        r.execute_command("INCR", "s")
    with pytest.raises(redis.ResponseError):
        r.execute_command("GET")
    after = fields(info_text(raw, "commandstats", "errorstats"))
    calls = re.fullmatch(
        r"calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),rejected_calls=(\d+),"
        r"failed_calls=(\d+)", after["cmdstat_get"])
    assert calls, after["cmdstat_get"]
    old = re.match(r"calls=(\d+)", before.get("cmdstat_get", "calls=0"))
    assert int(calls.group(1)) == int(old.group(1)) + 2
    assert int(calls.group(4)) >= 1          # GET without a key: rejected by arity
    assert "cmdstat_client|id" in after
    assert re.search(r"failed_calls=[1-9]", after["cmdstat_incr"])

    def count(stats, code):
        return int(stats.get("errorstat_" + code, "count=0").split("=")[1])
    assert count(after, "ERR") >= count(before, "ERR") + 3
    assert count(after, "ERR") >= 3
    assert int(fields(info_text(raw, "stats"))["total_error_replies"]) >= 3


def test_commands_processed_and_instantaneous_ops(r, raw):
    before = int(fields(info_text(raw, "stats"))["total_commands_processed"])
    pipe = r.pipeline(transaction=False)
    for _ in range(50):
        pipe.ping()
    pipe.execute()
    after = int(fields(info_text(raw, "stats"))["total_commands_processed"])
    assert after >= before + 50

    def busy():
        for _ in range(20):
            r.ping()
        return int(fields(info_text(raw, "stats"))["instantaneous_ops_per_sec"]) > 0
    assert wait_until(busy, timeout=10)
    stats = fields(info_text(raw, "stats"))
    assert re.fullmatch(r"\d+\.\d\d", stats["instantaneous_input_kbps"])
    assert int(stats["total_net_input_bytes"]) > 0 and int(stats["total_net_output_bytes"]) > 0


def test_persistence_and_replication(r, raw):
    before = int(fields(info_text(raw, "persistence"))["rdb_changes_since_last_save"])
    r.set("a", "1")
    r.set("b", "2")
    persistence = fields(info_text(raw, "persistence"))
    assert int(persistence["rdb_changes_since_last_save"]) == before + 2
    assert persistence["loading"] == "0" and persistence["rdb_bgsave_in_progress"] == "0"
    assert persistence["aof_enabled"] == "0"
    assert int(persistence["rdb_last_save_time"]) == r.lastsave().timestamp()
    replication = fields(info_text(raw, "replication"))
    assert replication["role"] == "master" and replication["connected_slaves"] == "0"
    assert re.fullmatch(r"[0-9a-f]{40}", replication["master_replid"])
    assert replication["master_replid2"] == "0" * 40
    assert replication["master_repl_offset"] == "0"


def test_memory_and_cpu(raw, ember_server):
    memory = fields(info_text(raw, "memory"))
    assert int(memory["used_memory"]) > 0
    rss = int(memory["used_memory_rss"])
    with open(f"/proc/{ember_server.proc.pid}/statm") as fh:
        statm_rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    assert abs(rss - statm_rss) < 64 * 1024 * 1024
    assert re.fullmatch(r"\d+(\.\d\d[KMGTP]|B)", memory["used_memory_human"])
    assert memory["maxmemory"] == "0" and memory["maxmemory_policy"] == "noeviction"
    assert int(memory["used_memory_peak"]) >= int(memory["used_memory"])
    cpu = fields(info_text(raw, "cpu"))
    for name in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
                 "used_cpu_user_children"):
        assert re.fullmatch(r"\d+\.\d{6}", cpu[name]), name
    assert float(cpu["used_cpu_user"]) > 0


def test_resp3_info_is_a_verbatim_string(ember_server):
    client = RawClient(ember_server.port)
    try:
        client.call("HELLO", "3")
        reply = client.call_raw("INFO", "cluster")
        body = b"txt:# Cluster\r\ncluster_enabled:0\r\n"
        assert reply == b"=%d\r\n%s\r\n" % (len(body), body)
        assert client.call_raw("INFO", "nosuch") == b"=4\r\ntxt:\r\n"
    finally:
        client.close()


def test_redis_py_parses_info_in_both_protocols(r, r3):
    for client in (r, r3):
        parsed = client.info()
        assert parsed["redis_version"] == ember.REDIS_VERSION
        assert parsed["role"] == "master"
        assert "used_memory" in client.info("memory")
        every = client.info("everything")
        assert "cluster_enabled" in every
