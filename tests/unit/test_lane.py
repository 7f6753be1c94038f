"""Which commands the fast lane admits (commands/lane.py): data commands only, never one
that can block, change the client's state, or talk to another server."""

import pytest

from ember.commands import load_all
from ember.commands.lane import admitted, lane_spec
from ember.commands.registry import COMMANDS
from ember.server.app import Server  # noqa: F401  (declares DUMP, RESTORE, MIGRATE ...)

load_all()


def test_no_admitted_command_can_block_or_change_the_client():
    for spec in COMMANDS.values():
        if admitted(spec):
            assert "blocking" not in spec.flags, spec.name
            assert "noscript" not in spec.flags, spec.name
            assert not spec.subcommands, spec.name
            assert spec.group not in ("connection", "server", "transactions", "pubsub",
                                      "scripting") or spec.name in ("ping", "echo")


@pytest.mark.parametrize("name", [b"GET", b"get", b"SET", b"INCR", b"MSET", b"HSET",
                                  b"LPUSH", b"ZADD", b"DEL", b"EXPIRE", b"PING", b"ECHO",
                                  b"PFADD", b"XADD", b"GEOADD", b"SETBIT"])
def test_data_commands_are_admitted(name):
    assert lane_spec(name) is COMMANDS[name.decode().lower()]


@pytest.mark.parametrize("name", [b"MULTI", b"EXEC", b"BLPOP", b"BZPOPMIN", b"XREAD",
                                  b"SUBSCRIBE", b"PUBLISH", b"CLIENT", b"SELECT", b"HELLO",
                                  b"AUTH", b"RESET", b"QUIT", b"WAIT", b"MIGRATE", b"EVAL",
                                  b"CONFIG", b"OBJECT", b"MONITOR", b"NOSUCH", b"DEBUG"])
def test_other_commands_take_the_full_path(name):
    assert lane_spec(name) is None
