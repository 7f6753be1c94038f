"""The active-expire cycle over all databases: budget, round robin, backlog report."""

from ember.storage.expiry import expire_cycle, has_due


def _fill(h, db_index: int, count: int, ttl_ms: int = 10) -> None:
    h("SELECT", db_index)
    for i in range(count):
        h("SET", f"k{i}", "v", "PX", ttl_ms)
    h("SELECT", 0)


def test_cycle_removes_every_due_key_across_databases(h):
    _fill(h, 0, 300)
    _fill(h, 3, 300)
    _fill(h, 5, 10, ttl_ms=10_000)
    h.advance(11)
    more, _ = expire_cycle(h.engine.dbs, budget_seconds=10.0)
    assert not more
    assert len(h.engine.dbs[0]) == 0 and len(h.engine.dbs[3]) == 0
    assert len(h.engine.dbs[5]) == 10                 # not due yet: untouched
    assert h.engine.keyspace_stats.expired == 600


def test_zero_budget_reports_backlog_and_where_to_resume(h):
    _fill(h, 2, 1000)
    h.advance(11)
    more, resume_at = expire_cycle(h.engine.dbs, budget_seconds=0.0)
    assert more and resume_at == 2                    # one chunk done, then out of time
    assert 0 < len(h.engine.dbs[2]) < 1000
    while more:
        more, resume_at = expire_cycle(h.engine.dbs, 0.0, resume_at)
    assert len(h.engine.dbs[2]) == 0
    assert not has_due(h.engine.dbs[2], h.now)


def test_round_robin_start_reaches_later_databases_first(h):
    _fill(h, 0, 500)
    _fill(h, 1, 500)
    h.advance(11)
    expire_cycle(h.engine.dbs, 0.0, start=1)
    assert len(h.engine.dbs[1]) < 500 and len(h.engine.dbs[0]) == 500
