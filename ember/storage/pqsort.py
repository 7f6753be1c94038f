"""Redis's partial quicksort (pqsort.c), for results cut by LIMIT/COUNT.

Redis sorts with NetBSD's qsort (Bentley & McIlroy) restricted to the partitions that
overlap the wanted window, and without the switch to insertion sort after a swap-free
pass (removed in Redis 2.8). It is not stable, so which of several equal elements lands
in the window depends on the algorithm's exact steps; SORT ... LIMIT and GEOSEARCH ...
COUNT reproduce Redis's choice by running the same steps.
"""


def pqsort(v: list, cmp, lrange: int, rrange: int) -> None:
    """Redis's pqsort (pqsort.c since 2.8: NetBSD's qsort without the switch to
    insertion sort after a swap-free pass), in place, sorting only the partitions that
    overlap positions ``lrange``..``rrange``. Not stable: which of several equal points
    lands in the window is decided exactly as Redis decides it."""
    pending = [(0, len(v))]
    while pending:
        a, n = pending.pop()
        while True:
            if n < 7:
                for m in range(a + 1, a + n):
                    pl = m
                    while pl > a and cmp(v[pl - 1], v[pl]) > 0:
                        v[pl - 1], v[pl] = v[pl], v[pl - 1]
                        pl -= 1
                break
            pm = a + n // 2
            if n > 7:
                pl, pn = a, a + n - 1
                if n > 40:
                    d = n // 8
                    pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                    pm = _med3(v, pm - d, pm, pm + d, cmp)
                    pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
                pm = _med3(v, pl, pm, pn, cmp)
            v[a], v[pm] = v[pm], v[a]
            pa = pb = a + 1
            pc = pd = a + n - 1
            while True:
                while pb <= pc:
                    result = cmp(v[pb], v[a])
                    if result > 0:
                        break
                    if result == 0:
                        v[pa], v[pb] = v[pb], v[pa]
                        pa += 1
                    pb += 1
                while pb <= pc:
                    result = cmp(v[pc], v[a])
                    if result < 0:
                        break
                    if result == 0:
                        v[pc], v[pd] = v[pd], v[pc]
                        pd -= 1
                    pc -= 1
                if pb > pc:
                    break
                v[pb], v[pc] = v[pc], v[pb]
                pb += 1
                pc -= 1
            pn = a + n
            r = min(pa - a, pb - pa)
            _vecswap(v, a, pb - r, r)
            r = min(pd - pc, pn - pd - 1)
            _vecswap(v, pb, pn - r, r)
            r = pb - pa
            if r > 1 and not _outside(lrange, rrange, a, a + r - 1):
                pending.append((a, r))
            r = pd - pc
            if r <= 1:
                break
            a, n = pn - r, r
            if _outside(lrange, rrange, a, a + r - 1):
                break


def _med3(v, a, b, c, cmp):
    if cmp(v[a], v[b]) < 0:
        return b if cmp(v[b], v[c]) < 0 else (c if cmp(v[a], v[c]) < 0 else a)
    return b if cmp(v[b], v[c]) > 0 else (a if cmp(v[a], v[c]) < 0 else c)


def _vecswap(v, a, b, n) -> None:
    for i in range(n):
        v[a + i], v[b + i] = v[b + i], v[a + i]


def _outside(lo, hi, first, last) -> bool:
    return (lo < first and hi < first) or (lo > last and hi > last)
