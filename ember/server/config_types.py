"""Parameter kinds of the configuration table: how each kind parses, prints and rewrites.

Every kind follows Redis's config.c: the same accepted spellings, the same bounds and the
same error texts (``str(ConfigError)`` is the reason Redis puts after "CONFIG SET failed
(possibly related to argument 'x') - " or under the offending redis.conf line).

A parameter turns its argument strings into a stored Python value (``parse``), prints a
stored value the way CONFIG GET does (``format``), and gives CONFIG REWRITE its lines
(``rewrite``: a list of ``(line, force)``, or None for "drop the option from the file";
a line that is not forced is written only where the file already mentions the option).
"""

from ember.protocol.numbers import parse_int
from ember.protocol.sdsrepr import sds_repr

ULLONG = 1 << 64
LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)
INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)
UINT_MAX = (1 << 32) - 1
ULLONG_MAX = ULLONG - 1

MEMORY_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
    "g": 1000 ** 3, "gb": 1024 ** 3,
}


class ConfigError(Exception):
    """A value a parameter cannot take; ``str()`` is Redis's reason text."""


def memtoull(text: str):
    """Redis's memtoull: ``100mb`` -> bytes as an unsigned 64-bit value, None if invalid.

    Like the C code, an empty number is 0, an overflowing number saturates and an
    overflowing product wraps around.
    """
    digits_end = 0
    if text.startswith("-"):
        return None
    while digits_end < len(text) and "0" <= text[digits_end] <= "9":
        digits_end += 1
    unit = text[digits_end:].lower()
    if unit not in MEMORY_UNITS:
        return None
    digits = text[:digits_end]
    value = min(int(digits), ULLONG_MAX) if digits else 0
    return (value * MEMORY_UNITS[unit]) % ULLONG


def parse_memory(text: str) -> int:
    """Parse a ``100mb``-style size; ConfigError if it is not one."""
    value = memtoull(text)
    if value is None:
        raise ConfigError("argument must be a memory value")
    return value


def parse_bool(text: str) -> bool:
    """yes/no (any case), as Redis's boolean configs accept them."""
    lowered = text.lower()
    if lowered == "yes":
        return True
    if lowered == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")




def format_memory(value: int) -> str:
    """A byte count as CONFIG REWRITE writes it: 1gb, 64mb, 10kb or plain bytes."""
    for unit, size in (("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)):
        if value and value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


class Param:
    """One configuration parameter (the common part of every kind)."""

    multi_arg = False          # takes several arguments (save, bind ...)

    def __init__(self, name: str, default, alias: str = None, immutable: bool = False,
                 protected: bool = False, sensitive: bool = False, hidden: bool = False,
                 deny_loading: bool = False):
        self.name = name
        self.default = default
        self.aliases = (alias,) if alias else ()
        self.immutable = immutable
        self.protected = protected
        self.sensitive = sensitive
        self.hidden = hidden
        self.deny_loading = deny_loading

    @property
    def attr(self) -> str:
        """The Config attribute holding the value (``-`` becomes ``_``)."""
        return self.name.replace("-", "_")

    def initial(self):
        """A fresh copy of the default value."""
        value = self.default
        if isinstance(value, (list, dict)):
            return type(value)(value)
        return value

    def parse(self, args: list, current=None, loading: bool = False):
        """Turn argument strings into the value to store (ConfigError if invalid)."""
        return self.parse_one(args[0])

    def parse_one(self, text: str):
        raise NotImplementedError

    def format(self, value) -> str:
        """The value as CONFIG GET prints it."""
        return str(value)

    def rewrite(self, value):
        """CONFIG REWRITE: [(line, force)], or None to drop the option from the file."""
        return [(f"{self.name} {self.format(value)}", value != self.default)]


class BoolParam(Param):
    """yes/no."""

    def parse_one(self, text):
        return parse_bool(text)

    def format(self, value):
        return "yes" if value else "no"


class NumParam(Param):
    """A number with bounds; optionally a memory size, a percentage or octal."""

    def __init__(self, name, default, lo, hi, unsigned=False, memory=False, percent=False,
                 octal=False, **kw):
        super().__init__(name, default, **kw)
        self.lo, self.hi = lo, hi
        self.unsigned, self.memory, self.percent, self.octal = unsigned, memory, percent, octal

    def parse_one(self, text):
        value = self._parse_number(text)
        if self.unsigned:
            value %= ULLONG
            if not self.lo <= value <= self.hi:
                fmt = "%o" if self.octal else "%d"
                raise ConfigError(("argument must be between " + fmt + " and " + fmt
                                   + " inclusive") % (self.lo, self.hi))
            return value
        if value > LLONG_MAX:
            value -= ULLONG
        if self.percent and value < 0:
            if value < self.lo:
                raise ConfigError(f"percentage argument must be less or equal to {-self.lo}")
        elif not self.lo <= value <= self.hi:
            raise ConfigError(f"argument must be between {self.lo} and {self.hi} inclusive")
        return value

    def _parse_number(self, text):
        if self.memory:
            value = memtoull(text)
            if value is not None:
                return value
        if self.percent and len(text) > 1 and text.endswith("%"):
            value = parse_int(text[:-1].encode("utf-8", "surrogateescape"))
            if value is not None and value >= 0:
                return -value
        if self.octal:
            try:
                return int(text.strip(), 8)
            except ValueError:
                pass
        if not (self.memory or self.percent or self.octal):
            value = parse_int(text.encode("utf-8", "surrogateescape"))
            if value is not None:
                return value
        if self.memory and self.percent:
            raise ConfigError("argument must be a memory or percent value")
        if self.memory:
            raise ConfigError("argument must be a memory value")
        if self.octal:
            raise ConfigError("argument couldn't be parsed as an octal number")
        raise ConfigError("argument couldn't be parsed into an integer")

    def format(self, value):
        if self.percent and value < 0:
            return f"{-value}%"
        if self.octal:
            return "%o" % value
        return str(value)

    def rewrite(self, value):
        if self.percent and value < 0:
            text = f"{-value}%"
        elif self.memory:
            text = format_memory(value)
        elif self.octal:
            text = "%o" % value
        else:
            text = str(value)
        return [(f"{self.name} {text}", value != self.default)]


class EnumParam(Param):
    """One of a fixed set of names; with ``flags`` several names combine (ORed bits)."""

    def __init__(self, name, default, choices, flags=False, validate=None, synonyms=None,
                 **kw):
        super().__init__(name, default, **kw)
        self.choices = tuple(choices)
        self.synonyms = synonyms or {}   # accepted spelling -> the name GET prints
        self.flags = flags
        self.multi_arg = flags
        self.validate = validate

    def _error(self):
        return ConfigError("argument(s) must be one of the following: "
                           + ", ".join(self.choices))

    def parse(self, args, current=None, loading=False):
        if not self.flags:
            if len(args) != 1 or args[0].lower() not in self.choices:
                raise self._error()
            return self.synonyms.get(args[0].lower(), args[0].lower())
        chosen = set()
        for arg in args:
            if arg.lower() not in self.choices:
                raise self._error()
            chosen.add(arg.lower())
        if not args:
            raise self._error()
        if self.validate:
            self.validate(chosen)
        # Names print in table order; the first choice means "no flag" (value 0).
        names = [c for c in self.choices[1:] if c in chosen]
        return " ".join(names) if names else self.choices[0]


class StringParam(Param):
    """Free text; ``null_empty``: an empty value means "unset" (dropped by REWRITE)."""

    def __init__(self, name, default="", null_empty=False, validate=None, **kw):
        super().__init__(name, default, **kw)
        self.null_empty = null_empty
        self.validate = validate

    def parse_one(self, text):
        if self.validate:
            self.validate(text)
        return text

    def rewrite(self, value):
        if self.null_empty and value == "":
            return None
        # Redis's "null" strings have no default: a value is always written.
        force = True if self.null_empty else value != self.default
        return [(f"{self.name} {sds_repr(value)}", force)]
