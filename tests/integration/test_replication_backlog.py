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
