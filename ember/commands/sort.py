"""SORT and SORT_RO: sort a list, set or sorted set, optionally by the values of other keys
(BY pattern, hash fields with ``->``), page it (LIMIT), fetch other keys for each element
(GET pattern, ``#`` for the element itself) and store the result as a list (STORE).

This follows Redis's sortCommandGeneric step by step, including its special cases:
BY a pattern without ``*`` means "do not sort" (lists and sorted sets keep their order,
with DESC reversing it and LIMIT taken directly; a set is sorted ALPHA anyway when the
result is stored or a script asked, so that replicas get the same result); numeric
sorting parses scores as C ``strtod`` does and ties are broken by comparing the
elements; ALPHA compares bytes (the C/C.UTF-8 collation), as stored results do; ties
left by ALPHA BY land where Redis's sorts put them (a port of its partial quicksort
under LIMIT); a sorted set is converted to its skiplist encoding, as Redis converts it
destructively.
"""

import math

from ember.commands.args import int_arg
from ember.commands.hash_ttl import live_value
from ember.commands.keyspecs import KeySpec
from ember.commands.registry import command
from ember.errors import SYNTAX, WRONGTYPE, ReplyError
from ember.storage.pqsort import pqsort
from ember.storage.types.hash import HashValue
from ember.storage.types.list import ListValue

NOT_DOUBLE = "ERR One or more scores can't be converted into double"
_SPACES = b" \t\n\v\f\r"
_MIN_NORMAL = 2.2250738585072014e-308
_BY_GET_NOTES = ("For the optional BY/GET keyword. It is marked 'unknown' because the key "
                 "names derive from the content of the key we sort")
_STORE_NOTES = ("For the optional STORE keyword. It is marked 'unknown' because the "
                "keyword can appear anywhere in the argument array")


def c_strtod(data: bytes):
    """``(value, ok)``: ``data`` read as SORT reads a score, with C's strtod, which must
    consume the whole C string and set no ERANGE (overflow, or an underflow to zero or a
    subnormal). Leading spaces, hex floats and inf/infinity are fine; the empty string is
    0 (strtod converts nothing and stops at the end), NaN is not a score."""
    end = data.find(b"\0")
    if end >= 0:
        data = data[:end]
    if not data:
        return 0.0, True
    text = data.lstrip(_SPACES)
    if not text or text[-1] in _SPACES or b"_" in text:
        return 0.0, False
    body = text[1:] if text[:1] in (b"+", b"-") else text
    hexadecimal = body[:2].lower() == b"0x"
    try:
        value = float.fromhex(text.decode("ascii")) if hexadecimal else float(text)
    except (ValueError, OverflowError, UnicodeDecodeError):
        return 0.0, False
    if value != value:
        return 0.0, False
    if math.isinf(value):
        return value, body.lower() in (b"inf", b"infinity")
    if abs(value) < _MIN_NORMAL:
        mantissa = body.lower().split(b"p" if hexadecimal else b"e", 1)[0]
        digits = mantissa[2:] if hexadecimal else mantissa
        if value != 0 or digits.strip(b"0.") != b"":
            return 0.0, False
    return value, True


def sort_getkeys(argv: list) -> list:
    """SORT's key positions: the sorted key and the last STORE destination, found as
    Redis's sortGetKeys scans the options (LIMIT skips 2, GET and BY skip 1)."""
    store = None
    i = 2
    while i < len(argv):
        option = argv[i].lower()
        if option == b"limit":
            i += 2
        elif option == b"store" and i + 1 < len(argv):
            store = i + 1
        elif option in (b"get", b"by"):
            i += 1
        i += 1
    return [1] if store is None else [1, store]


class _StoreKeySpec(KeySpec):
    """SORT's STORE key spec: "unknown" in COMMAND INFO, as Redis declares it, yet placed
    by :func:`sort_getkeys` so that COMMAND GETKEYSANDFLAGS flags it OW update."""

    def positions(self, argv: list):
        """The STORE destination's index, if any."""
        return sort_getkeys(argv)[1:]


class _Options:
    """SORT's parsed options."""

    __slots__ = ("desc", "alpha", "start", "count", "store", "by", "dontsort", "gets")

    def __init__(self, argv: list, readonly: bool):
        self.desc = self.alpha = self.dontsort = False
        self.start, self.count = 0, -1
        self.store = self.by = None
        self.gets = []
        j, argc = 2, len(argv)
        while j < argc:
            option = argv[j].lower()
            left = argc - j - 1
            if option == b"asc":
                self.desc = False
            elif option == b"desc":
                self.desc = True
            elif option == b"alpha":
                self.alpha = True
            elif option == b"limit" and left >= 2:
                self.start = int_arg(argv[j + 1])
                self.count = int_arg(argv[j + 2])
                j += 2
            elif option == b"store" and left >= 1 and not readonly:
                self.store = argv[j + 1]
                j += 1
            elif option == b"by" and left >= 1:
                self.by = argv[j + 1]
                if b"*" not in _c_string(self.by):
                    self.dontsort = True       # sticky, as in Redis
                j += 1
            elif option == b"get" and left >= 1:
                self.gets.append(argv[j + 1])
                j += 1
            else:
                raise ReplyError(SYNTAX)
            j += 1


def _c_string(data: bytes) -> bytes:
    end = data.find(b"\0")
    return data if end < 0 else data[:end]


def lookup_by_pattern(ctx, pattern: bytes, subst: bytes):
    """Redis's lookupKeyByPattern: ``#`` is the element itself; otherwise the first
    ``*`` is replaced by the element, and ``key->field`` reads a hash field. Returns the
    string found, or None (no ``*``, no such key, wrong type, no such field)."""
    text = _c_string(pattern)            # C's strchr/strstr stop at a NUL
    if text == b"#":
        return subst
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = text.find(b"->", star + 1)
    field = None
    tail = len(pattern)
    if arrow >= 0 and arrow + 2 < len(text):
        field = pattern[arrow + 2:]
        tail = arrow
    key = pattern[:star] + subst + pattern[star + 1:tail]
    value = ctx.db.lookup(key)
    if value is None:
        return None
    if field is not None:
        if type(value) is not HashValue:
            return None
        return live_value(ctx, key, value, field)
    if type(value) is bytes:
        return value
    if type(value) is bytearray:
        return bytes(value)
    return None


def _window(length: int, start: int, count: int):
    """(start, end) of the LIMIT window, clamped as Redis does (end < start: empty)."""
    start = min(max(start, 0), length)
    count = min(max(count, -1), length)
    end = length - 1 if count < 0 else start + count - 1
    if start >= length:
        start, end = length - 1, length - 2
    if end >= length:
        end = length - 1
    return start, end


def _elements(value, opts, start: int, end: int):
    """(elements, start, end): the vector Redis loads, and the window within it."""
    kind = value.type_name
    length = len(value)
    direct = opts.dontsort and kind in ("list", "zset")
    if direct and (start != 0 or end != length - 1):
        take = end - start + 1
    else:
        take = length
    if kind == "list":
        if not opts.dontsort:
            return list(value), start, end
        if end < start:
            return [], start, end
        if opts.desc:
            first = length - start - 1
            items = value.range(max(first - take + 1, 0), first)
            items.reverse()
        else:
            items = value.range(start, start + take - 1)
        return items, 0, end - start
    if kind == "set":
        return value.members(), start, end
    if not opts.dontsort:
        return [member for member, _ in value], start, end
    if take <= 0:
        items = []
    elif opts.desc:
        items = [m for m, _ in value.slice(length - start - take, length - start, True)]
    else:
        items = [m for m, _ in value.slice(start, start + take)]
    return items, 0, end - start


def _sorted(ctx, items: list, opts, start: int, end: int) -> list:
    """``items`` in SORT's order (numeric by default, ALPHA, by pattern, DESC); only
    positions ``start``..``end`` need to be right."""
    by = opts.by
    if opts.alpha:
        if by is None:
            # Stored results compare binary strings; replies use strcoll, which in the
            # C locale compares up to the first NUL.
            key = (lambda e: e) if opts.store is not None else _c_string
            return sorted(items, key=key, reverse=opts.desc)
        return _sorted_alpha_by(ctx, items, opts, start, end)
    keyed = []
    ok = True
    for element in items:
        if by is None:
            score, good = c_strtod(element)
        else:
            found = lookup_by_pattern(ctx, by, element)
            score, good = (0.0, True) if found is None else c_strtod(found)
        ok = ok and good
        keyed.append((score, element))
    if not ok:
        raise ReplyError(NOT_DOUBLE)
    # Equal scores are ordered by the elements, so any correct sort (Redis's partial
    # one with LIMIT included) gives the same window: Python's sort will do.
    keyed.sort(reverse=opts.desc)
    return [element for _, element in keyed]


def _sorted_alpha_by(ctx, items: list, opts, start: int, end: int) -> list:
    """ALPHA BY pattern: elements whose pattern finds nothing come first; ties keep an
    order that depends on the sort algorithm, so this uses Redis's: libc's stable sort
    for a whole sort, its partial quicksort (pqsort) when LIMIT cuts a window."""
    by = opts.by
    binary = opts.store is not None
    keyed = []
    for element in items:
        found = lookup_by_pattern(ctx, by, element)
        if found is not None and not binary:
            found = _c_string(found)
        keyed.append((found, element))
    if start == 0 and end == len(items) - 1:
        present = [pair for pair in keyed if pair[0] is not None]
        missing = [pair for pair in keyed if pair[0] is None]
        present.sort(key=lambda pair: pair[0], reverse=opts.desc)
        ordered = missing + present if not opts.desc else present + missing
        return [element for _, element in ordered]
    sign = -1 if opts.desc else 1

    def compare(x, y):
        a, b = x[0], y[0]
        if a is None or b is None:
            cmp = 0 if a is b else (-1 if a is None else 1)
        else:
            cmp = (a > b) - (a < b)
        return sign * cmp

    pqsort(keyed, compare, start, end)
    return [element for _, element in keyed]


def sort_generic(ctx, argv: list, readonly: bool):
    """SORT / SORT_RO."""
    opts = _Options(argv, readonly)
    value = ctx.db.lookup(argv[1])
    kind = getattr(value, "type_name", None) if value is not None else "list"
    if kind not in ("list", "set", "zset"):
        raise ReplyError(WRONGTYPE)
    if value is None:
        value = ListValue()
    if opts.dontsort and kind == "set" and (opts.store is not None
                                            or "script" in ctx.flags):
        opts.dontsort, opts.alpha, opts.by = False, True, None
    if kind == "zset":
        value.big = True        # Redis converts a listpack zset to a skiplist for SORT
    start, end = _window(len(value), opts.start, opts.count)
    items, start, end = _elements(value, opts, start, end)
    if not opts.dontsort:
        items = _sorted(ctx, items, opts, start, end)
    window = items[start:end + 1] if end >= start else []
    gets = opts.gets
    if opts.store is None:
        if not gets:
            return window
        return [lookup_by_pattern(ctx, pattern, element)
                for element in window for pattern in gets]
    if gets:
        result = []
        for element in window:
            for pattern in gets:
                found = lookup_by_pattern(ctx, pattern, element)
                result.append(b"" if found is None else found)
    else:
        result = window
    return _store(ctx, opts.store, result)


def _store(ctx, key: bytes, result: list) -> int:
    """STORE: the result as a list at ``key`` (TTL cleared), or ``key`` deleted when the
    result is empty; the reply is the result's length."""
    db = ctx.db
    if result:
        db.set(key, ListValue(result, ctx.engine.config.list_max_listpack_size))
        ctx.engine.key_modified(db, key, "sortstore", len(result))
    elif db.delete(key):
        ctx.engine.key_modified(db, key, "del")
    return len(result)


@command("sort", arity=-2, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group="generic", since="1.0.0", acl="set sortedset list dangerous",
         getkeys=sort_getkeys, key_specs=(
             KeySpec("RO access", index=1),
             KeySpec("RO access", notes=_BY_GET_NOTES),
             _StoreKeySpec("OW update", notes=_STORE_NOTES)),
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set "
         "to sort, and M the number of returned elements. When the elements are not "
         "sorted, complexity is O(N).")
def sort(ctx, argv):
    """Sort the elements in a list, a set, or a sorted set, optionally storing the result."""
    return sort_generic(ctx, argv, readonly=False)


@command("sort_ro", arity=-2, flags="readonly movablekeys", keys=(1, 1, 1),
         group="generic", since="7.0.0", acl="set sortedset list dangerous",
         key_specs=(KeySpec("RO access", index=1), KeySpec("RO access", notes=_BY_GET_NOTES)),
         complexity="O(N+M*log(M)) where N is the number of elements in the list or set "
         "to sort, and M the number of returned elements. When the elements are not "
         "sorted, complexity is O(N).")
def sort_ro(ctx, argv):
    """Sort the elements in a list, a set, or a sorted set (read-only variant of SORT)."""
    return sort_generic(ctx, argv, readonly=True)
