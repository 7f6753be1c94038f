"""The PSYNC2 backlog, sans-IO (no server needed): what a replica asking for an offset
gets is exactly the stream's tail, and replid/replid2 follow promotions."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ember.replication.backlog import Backlog
from ember.replication.stream import command_length, encode_command


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=5000), max_size=40),
       st.integers(min_value=0, max_value=200_000))
def test_since_returns_the_exact_tail_or_none(chunks, ask):
    backlog = Backlog(size=16 * 1024)
    backlog.create()
    stream = b""
    for chunk in chunks:
        backlog.feed(chunk)
        stream += chunk
    assert backlog.offset == len(stream)
    start = ask + 1                                  # PSYNC asks for the next byte
    tail = backlog.since(start)
    kept = min(len(stream), backlog.size)
    if len(stream) - kept + 1 <= start <= len(stream) + 1:
        assert tail == stream[start - 1:]
    else:
        assert tail is None
    assert backlog.histlen == kept


def test_promotion_keeps_the_old_history_valid_up_to_its_end():
    backlog = Backlog(size=16 * 1024)
    backlog.create()
    backlog.feed(b"x" * 100)
    old = backlog.replid
    backlog.shift_replid()
    assert backlog.replid2 == old and backlog.second_offset == 101
    backlog.feed(b"y" * 10)
    assert backlog.can_continue(old, 101)             # the old primary's replicas
    assert backlog.can_continue(old, 50)
    assert not backlog.can_continue(old, 102)         # past the old history's end
    assert backlog.can_continue(backlog.replid, 111)
    assert not backlog.can_continue("f" * 40, 101)


@given(st.lists(st.binary(max_size=2000), min_size=1, max_size=6))
def test_command_length_is_the_encoded_length(argv):
    assert command_length(argv) == len(encode_command(argv))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=3000), st.booleans()), max_size=30),
       st.integers(min_value=0, max_value=100_000))
def test_unsettled_bytes_count_in_the_offset_and_the_tail(chunks, ask):
    """Bytes fed during an iteration are settled into the buffer later (once per
    iteration); until then since(), histlen and memory() see them all the same."""
    backlog = Backlog(size=16 * 1024)
    backlog.create()
    stream = b""
    sent = b""
    for chunk, settle in chunks:
        backlog.feed(chunk)
        stream += chunk
        if settle:
            sent += backlog.settle()
    start = ask + 1
    kept = min(len(stream), backlog.size)
    tail = backlog.since(start)
    if len(stream) - kept + 1 <= start <= len(stream) + 1:
        assert tail == stream[start - 1:]
    else:
        assert tail is None
    assert backlog.histlen == kept
    assert backlog.memory() >= kept
    sent += backlog.settle()
    assert sent == stream                   # what the replicas get: every byte, in order
    assert backlog.since(start) == tail


def _primary():
    import ember.replication.commands  # noqa: F401  (REPLCONF, WAIT ...)
    from ember.commands import load_all
    from ember.commands.engine import Engine
    from ember.replication.manager import Replication
    from ember.server.config import Config

    load_all()
    engine = Engine(Config())
    repl = engine.hooks["replication"] = Replication(engine)
    repl.primary.ensure_backlog()
    return engine, repl


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=1100), st.integers(-10**6, 10**6),
                          st.text(max_size=20)), min_size=1, max_size=5),
       st.integers(min_value=0, max_value=3))
def test_propagated_writes_are_encoded_as_redis_does(argv, db):
    engine, repl = _primary()
    engine.propagate(db, argv)
    engine.propagate(db, argv)
    expected = encode_command([b"SELECT", str(db).encode()]) + encode_command(argv) * 2
    assert repl.backlog.offset == len(expected)
    assert repl.backlog.since(1) == expected


def _replica():
    engine, repl = _primary()
    repl.replicaof("127.0.0.1", 1)          # no io: nothing connects
    sent = []
    repl.link.send = sent.append
    repl.link._go_online()
    return engine, repl, sent


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=40), st.binary(max_size=300)),
                min_size=1, max_size=20), st.data())
def test_replica_offset_and_relay_whatever_the_chunking(pairs, data):
    """The primary's stream cut anywhere: the replica applies every command, its offset
    counts whole commands only, and it relays exactly the bytes it applied."""
    engine, repl, sent = _replica()
    stream = b"".join(encode_command([b"SET", key, value]) for key, value in pairs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    start = repl.backlog.offset
    for a, b in zip([0] + cuts, cuts + [len(stream)]):
        repl.link.feed(stream[a:b])
    assert repl.backlog.offset - start == len(stream)
    assert repl.backlog.since(start + 1) == stream
    assert engine.propagators == []          # a replica's commands propagate nothing
    db = engine.dbs[0]
    for key, value in dict(pairs).items():
        assert db.get_string(key) == value


def test_getack_inside_a_batch_reports_the_offset_before_it():
    engine, repl, sent = _replica()
    first = encode_command([b"SET", b"a", b"1"])
    start = repl.backlog.offset
    repl.link.feed(first + encode_command([b"REPLCONF", b"GETACK", b"*"])
                   + encode_command([b"SET", b"b", b"2"]))
    assert sent[-1] == encode_command([b"REPLCONF", b"ACK",
                                       str(start + len(first)).encode()])
