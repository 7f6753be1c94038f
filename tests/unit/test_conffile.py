"""redis.conf syntax, the redis-server command line, and CONFIG REWRITE's file edits."""

import os

import pytest

from ember.commands import load_all
from ember.server.cli import build_config, parse_command_line
from ember.server.conffile import (
    ConfigFileError,
    ConfigOpenError,
    load_config_text,
    load_server_config,
)
from ember.server.config import Config

load_all()


def load(text: str) -> Config:
    config = Config()
    load_server_config(config, stdin_text=text)
    return config


def fatal(text: str = "", options: str = "", path: str = None) -> str:
    with pytest.raises(ConfigFileError) as info:
        load_server_config(Config(), path, text, options)
    return str(info.value)


def test_quoting_comments_and_case():
    config = load('# comment\n\n  PORT 7000  \r\nrequirepass "a b\\x41\\n"\n'
                  "masterauth 'it\\'s'\nlogfile ''\n")
    assert config.port == 7000
    assert config.requirepass == "a bA\n"
    assert config.masterauth == "it's"
    assert config.logfile == ""


def test_repeated_directives_last_wins_save_accumulates():
    config = load("hz 20\nhz 30\nbind 1.2.3.4\nbind 127.0.0.1\nsave 900 1\nsave 60 5\n"
                  "client-output-buffer-limit pubsub 1mb 2mb 3\n"
                  "client-output-buffer-limit replica 4mb 5mb 6\n")
    assert config.hz == 30
    assert config.bind == ["127.0.0.1"]
    assert config.save == [(900, 1), (60, 5)]
    limits = config.client_output_buffer_limit
    assert limits["pubsub"] == (1 << 20, 2 << 20, 3)
    assert limits["replica"] == (4 << 20, 5 << 20, 6)
    assert load('save 900 1\nsave ""\n').save == []
    assert load('save ""\nsave 900 1\n').save == [(900, 1)]
    assert "bind" in config.explicit and "port" not in config.explicit


def test_units_bounds_and_enum_errors_name_the_line():
    assert fatal("port 1\n# c\nmaxmemory 1.5mb\n") == (
        "Reading the configuration file, at line 3\n>>> 'maxmemory 1.5mb'\n"
        "argument must be a memory value")
    assert fatal("  \t port 99999 \n") == (
        "Reading the configuration file, at line 1\n>>> 'port 99999'\n"
        "argument must be between 0 and 65535 inclusive")
    assert fatal("loglevel loud\n").endswith(
        "argument(s) must be one of the following: debug, verbose, notice, warning, nothing")
    assert fatal("port 1 2\n").endswith("\nwrong number of arguments")
    assert fatal("requirepass\n").endswith("\nwrong number of arguments")
    assert fatal('port "12\n').endswith(">>> 'port \"12'\nUnbalanced quotes in configuration line")
    assert fatal('port "1"x\n').endswith("Unbalanced quotes in configuration line")
    assert fatal("foo bar baz\n").endswith(
        ">>> 'foo bar baz'\nBad directive or wrong number of arguments")
    assert fatal("include\n").endswith("Bad directive or wrong number of arguments")
    assert fatal("save 1\n").endswith("Invalid save parameters")
    assert fatal("foo.bar\n").endswith("Module config specified without value")
    assert fatal("sentinel x\n").endswith("sentinel directive while not in sentinel mode")


def test_options_are_numbered_after_the_file(tmp_path):
    conf = tmp_path / "a.conf"
    conf.write_text("port 1234\n# c\nhz 5\n")
    _, _, options = parse_command_line([str(conf), "--port", "7000", "--foo", "bar"])
    assert fatal(path=str(conf), options=options) == (
        "Reading the configuration file, at line 6\n>>> 'foo \"bar\"'\n"
        "Bad directive or wrong number of arguments")
    _, _, options = parse_command_line(["--foo", "bar"])
    assert fatal(options=options).startswith("Reading the configuration file, at line 2\n")


def test_deprecated_directives_are_ignored():
    config = load("list-max-ziplist-entries 5\nlist-max-ziplist-value 6\n"
                  "lua-replicate-commands yes\n")
    assert config.port == 6379


def test_include_reads_other_files(tmp_path, monkeypatch):
    (tmp_path / "inc.conf").write_text("hz 42\n")
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    (conf_d / "a.conf").write_text("timeout 7\n")
    (conf_d / "b.conf").write_text("timeout 8\n")
    monkeypatch.chdir(tmp_path)     # like Redis, include paths are relative to the cwd
    config = load("include inc.conf\ninclude conf.d/*.conf\ninclude nothing/*.conf\n")
    assert config.hz == 42 and config.timeout == 8
    (tmp_path / "bad.conf").write_text("\n\nnosuch 1\n")
    assert fatal("include bad.conf\n").startswith(
        "Reading the configuration file, at line 3\n>>> 'nosuch 1'")
    with pytest.raises(ConfigOpenError, match="can't open config file 'missing.conf'"):
        load("include missing.conf\n")


def test_rename_command():
    from ember.commands.registry import COMMANDS

    spec = COMMANDS["echo"]
    try:
        config = load("rename-command echo say\n")
        assert COMMANDS["say"] is spec and "echo" not in COMMANDS
        assert config.rename_commands == [("echo", "say")]
        assert fatal("rename-command nosuchcmd x\n").endswith(
            "No such command in rename-command")
    finally:
        COMMANDS.pop("say", None)
        COMMANDS["echo"] = spec


def test_command_line_becomes_directives():
    path, stdin, options = parse_command_line(["/etc/r.conf", "--port", "7000", "--bind",
                                               "1.2.3.4", "-::1", "-"])
    assert path == "/etc/r.conf" and stdin is True
    assert options == 'port "7000" \nbind "1.2.3.4" "-::1" '
    assert parse_command_line(["--save", "--port", "1"])[2] == 'save ""\nport "1" '
    assert parse_command_line(["--port", "1", "--save"])[2] == 'port "1" \nsave ""'
    assert parse_command_line(["--port 6380", "--hz", "5"])[2] == "port 6380 \nhz \"5\" "
    assert parse_command_line(["-", "--hz", "5"])[1] is True
    assert parse_command_line(["--requirepass", 'a "b"'])[2] == 'requirepass "a \\"b\\"" '


def test_build_config_file_then_stdin_then_options(tmp_path):
    import io

    conf = tmp_path / "r.conf"
    conf.write_text("port 1000\nhz 11\ntimeout 3\n")
    config = build_config([str(conf), "--hz", "12", "-"],
                          stdin=io.BytesIO(b"timeout 4\nhz 99\n"))
    assert (config.port, config.hz, config.timeout) == (1000, 12, 4)
    assert config.path == str(conf)


def test_logfile_must_be_writable(tmp_path):
    assert fatal(f"logfile {tmp_path}/no/such/dir.log\n") == (
        "Can't open the log file: No such file or directory")


# ---- CONFIG REWRITE ------------------------------------------------------------------


def rewrite(tmp_path, original: str, changes: list, unknown: str = "") -> str:
    """Load ``original``, apply CONFIG SET ``changes``, rewrite the file (which also holds
    the ``unknown`` lines, as if edited after start-up) and return its new text."""
    path = tmp_path / "redis.conf"
    path.write_text(original + unknown)
    config = Config()
    config.path = str(path)
    cwd = os.getcwd()
    load_config_text(config, original.encode())
    assert config.set_many(changes) is None
    config.rewrite_file()
    os.chdir(cwd)
    return path.read_text()


def test_rewrite_keeps_comments_and_replaces_in_place(tmp_path):
    original = ("# top comment\nport 7000\n\ninclude /dev/null\n\n\n"
                "hash-max-ziplist-entries 100\nslave-read-only no\nsave 100 1\nsave 200 2\n"
                "# mid\nmaxmemory 2mb\n")
    text = rewrite(tmp_path, original, [("maxmemory", "3000000"),
                                        ("hash-max-listpack-entries", "7"),
                                        ("notify-keyspace-events", "KEA"), ("hz", "11")],
                   unknown="nosuch-directive 5\nhz 10\nhz 12\n")
    lines = text.split("\n")
    assert lines[:12] == [
        "# top comment", "port 7000", "", "include /dev/null", "",
        "hash-max-listpack-entries 7", "replica-read-only no", "save 100 1", "save 200 2",
        "# mid", "maxmemory 3000000", "# ??? nosuch-directive 5"]
    assert lines[12] == "hz 11" and lines[13] == ""
    generated = lines[lines.index("# Generated by CONFIG REWRITE") + 1:]
    assert 'notify-keyspace-events "AKE"' in generated
    assert f'dir "{os.getcwd()}"' in generated
    assert "latency-tracking-info-percentiles 50 99 99.9" in generated
    assert "port 7000" not in generated


def test_rewrite_round_trips(tmp_path):
    text = rewrite(tmp_path, "port 7001\n", [("requirepass", 'p "q"'), ("save", ""),
                                             ("client-output-buffer-limit", "pubsub 1mb 0 0"),
                                             ("maxmemory-clients", "5%")])
    config = load(text)
    assert config.requirepass == 'p "q"' and config.save == []
    assert config.client_output_buffer_limit["pubsub"] == (1 << 20, 0, 0)
    assert config.maxmemory_clients == -5 and config.port == 7001
    assert "client-output-buffer-limit pubsub 1mb 0 0" in text
    assert "client-output-buffer-limit normal" not in text
    # Rewriting again keeps the same configuration (Redis reuses the old lines of an
    # option in order, whatever client class they named, so the text may move).
    again = load(rewrite(tmp_path, text, []))
    assert again.client_output_buffer_limit == config.client_output_buffer_limit
    assert again.save == [] and again.requirepass == 'p "q"'


def test_rewrite_drops_unset_values(tmp_path):
    text = rewrite(tmp_path, "requirepass secret\n# keep\n", [("requirepass", "")])
    assert "requirepass" not in text and "# keep" in text
