"""First byte-for-byte comparisons with redis-server: the dispatcher's errors."""


def test_basic_replies_match(compat):
    compat.script([
        ("PING",), ("PING", "hello"), ("ECHO", "x"), ("SET", "k", "v"), ("GET", "k"),
        ("GET", "missing"), ("INCR", "n"), ("INCRBY", "n", "10"), ("DECR", "n"),
        ("INCR", "k"), ("SET", "k", "v", "NX"), ("SET", "k", "v2", "XX", "GET"),
        ("SET", "k", "v", "EX", "0"), ("SET", "k", "v", "EX", "abc"), ("SET", "k", "v", "NX", "XX"),
        ("DEL", "k", "n", "nope"),
    ])


def test_dispatcher_errors_match(compat):
    compat.script([
        ("NOSUCHCOMMAND",), ("nosuch", "a", "b"), ("GET",), ("GET", "a", "b"),
        ("SELECT", "99"), ("SELECT", "x"), ("PING", "a", "b"),
    ])
