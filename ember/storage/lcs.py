"""Longest common subsequence of two strings, walked exactly as Redis's LCS command does.

The table is the textbook dynamic programme; the walk back from the end prefers a
diagonal match, then the larger neighbour (going up in the first string on a strict
"greater"), and reports contiguous runs from the last one to the first, which is the
order Redis replies with.
"""

from array import array


def lcs_table(a: bytes, b: bytes, keep: bool = True) -> list:
    """Rows ``0..len(a)`` of LCS lengths: ``rows[i][j]`` is LCS(a[:i], b[:j]).

    With ``keep`` False only the first and last rows are kept (enough for the length).
    Kept rows are packed 4 bytes a cell, the size of Redis's uint32 table.
    """
    prev = [0] * (len(b) + 1)
    rows = [prev]
    for ca in a:
        row = [0]
        append = row.append
        left = 0
        for j, cb in enumerate(b):
            if cb == ca:
                left = prev[j] + 1
            else:
                up = prev[j + 1]
                if up > left:
                    left = up
            append(left)
        if keep:
            rows.append(array("I", row))
        prev = row
    if not keep and a:
        rows.append(prev)
    return rows


def lcs_walk(a: bytes, b: bytes, rows: list, minmatchlen: int = 0):
    """Walk the table back: (the LCS string, the matched ranges).

    Each range is ``(a_start, a_end, b_start, b_end, length)``, from the last match of
    the strings to the first; ranges shorter than ``minmatchlen`` are left out.
    """
    i, j = len(a), len(b)
    result = bytearray()
    ranges = []
    unset = len(a)
    a_start = unset
    a_end = b_start = b_end = 0
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            result.append(a[i - 1])
            if a_start == unset:
                a_start = a_end = i - 1
                b_start = b_end = j - 1
            elif a_start == i and b_start == j:
                a_start -= 1
                b_start -= 1
            else:
                emit = True
            if a_start == 0 or b_start == 0:
                emit = True
            i -= 1
            j -= 1
        else:
            if rows[i - 1][j] > rows[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if a_start != unset:
                emit = True
        if emit:
            length = a_end - a_start + 1
            if minmatchlen == 0 or length >= minmatchlen:
                ranges.append((a_start, a_end, b_start, b_end, length))
            a_start = unset
    result.reverse()
    return bytes(result), ranges
