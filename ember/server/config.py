"""The configuration table: Redis's directive names, defaults and value rules.

One table (:data:`PARAMS`) serves the command line, redis.conf files, CONFIG GET/SET and
CONFIG REWRITE. Values are kept parsed (ints, bools, lists); each parameter is also an
attribute of :class:`Config` with ``-`` turned into ``_`` (``config.maxmemory_policy``),
so hot paths read a plain attribute.
"""

from dataclasses import dataclass

MEMORY_UNITS = {
    "": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2,
    "g": 1000 ** 3, "gb": 1024 ** 3,
}


class ConfigError(Exception):
    """A value a parameter cannot take; ``str()`` is Redis's reason text."""


def parse_memory(text: str) -> int:
    """Parse ``100mb``-style sizes (Redis's memtoull)."""
    lowered = text.strip().lower()
    digits = lowered.rstrip("kmgb")
    unit = lowered[len(digits):]
    if unit not in MEMORY_UNITS or not digits or not digits.lstrip("-").isdigit():
        raise ConfigError("argument must be a memory value")
    value = int(digits) * MEMORY_UNITS[unit]
    if value < 0:
        raise ConfigError("argument must be a memory value")
    return value


def parse_bool(text: str) -> bool:
    """yes/no, as Redis's boolean configs accept them."""
    lowered = text.lower()
    if lowered == "yes":
        return True
    if lowered == "no":
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


@dataclass
class Param:
    """One configuration parameter."""

    name: str
    kind: str                  # bool int memory enum string list special
    default: object
    minimum: int = None
    maximum: int = None
    choices: tuple = ()
    aliases: tuple = ()
    immutable: bool = False    # cannot be changed by CONFIG SET
    protected: bool = False    # CONFIG SET refused unless enable-protected-configs
    sensitive: bool = False

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    def parse(self, args: list):
        """Turn the directive's argument strings into the stored value."""
        if self.kind == "list":
            return list(args)
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        text = args[0]
        if self.kind == "bool":
            return parse_bool(text)
        if self.kind in ("int", "memory"):
            if self.kind == "memory":
                value = parse_memory(text)
            else:
                try:
                    value = int(text)
                except ValueError:
                    raise ConfigError("argument couldn't be parsed into an integer")
            if (self.minimum is not None and value < self.minimum) or \
                    (self.maximum is not None and value > self.maximum):
                raise ConfigError(
                    f"argument must be between {self.minimum} and {self.maximum} inclusive")
            return value
        if self.kind == "enum":
            lowered = text.lower()
            if lowered not in self.choices:
                raise ConfigError("argument(s) must be one of the following: "
                                  + ", ".join(self.choices))
            return lowered
        return text

    def format(self, value) -> str:
        """The value as CONFIG GET and CONFIG REWRITE print it."""
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "list":
            return " ".join(value)
        return str(value)


def _p(name, kind, default, **kw):
    return Param(name, kind, default, **kw)


PARAMS = [
    _p("port", "int", 6379, minimum=0, maximum=65535),
    _p("bind", "list", ["127.0.0.1", "-::1"]),
    _p("protected-mode", "bool", True),
    _p("requirepass", "string", "", sensitive=True),
    _p("databases", "int", 16, minimum=1, maximum=2 ** 31 - 1, immutable=True),
    _p("hz", "int", 10, minimum=1, maximum=500),
    _p("maxclients", "int", 10000, minimum=1, maximum=2 ** 32 - 1),
    _p("timeout", "int", 0, minimum=0, maximum=2 ** 31 - 1),
    _p("tcp-keepalive", "int", 300, minimum=0, maximum=2 ** 31 - 1),
    _p("tcp-backlog", "int", 511, minimum=0, maximum=2 ** 31 - 1, immutable=True),
    _p("loglevel", "enum", "notice",
       choices=("debug", "verbose", "notice", "warning", "nothing")),
    _p("logfile", "string", "", immutable=True),
    _p("daemonize", "bool", False, immutable=True),
    _p("pidfile", "string", "", immutable=True),
    _p("dir", "string", ".", protected=True),
    _p("dbfilename", "string", "dump.rdb", protected=True),
    _p("proto-max-bulk-len", "memory", 512 * 1024 * 1024, minimum=1024 * 1024),
    _p("client-query-buffer-limit", "memory", 1024 * 1024 * 1024, minimum=1024 * 1024),
    _p("enable-debug-command", "enum", "no", choices=("no", "yes", "local"),
       immutable=True),
    _p("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"),
       immutable=True),
    _p("maxmemory", "memory", 0),
    _p("maxmemory-policy", "enum", "noeviction",
       choices=("volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction")),
    _p("slowlog-log-slower-than", "int", 10000, minimum=-1, maximum=2 ** 63 - 1),
    _p("slowlog-max-len", "int", 128, minimum=0, maximum=2 ** 63 - 1),
    _p("latency-monitor-threshold", "int", 0, minimum=0, maximum=2 ** 63 - 1),
    _p("appendonly", "bool", False),
    _p("save", "string", "3600 1 300 100 60 10000"),
]

PARAMS_BY_NAME = {}
for _param in PARAMS:
    PARAMS_BY_NAME[_param.name] = _param
    for _alias in _param.aliases:
        PARAMS_BY_NAME[_alias] = _param


class Config:
    """Current configuration values; each parameter is also an attribute."""

    def __init__(self):
        self.values = {}
        self.path = None   # the config file given on the command line, for REWRITE
        for param in PARAMS:
            self._store(param, param.default if not isinstance(param.default, list)
                        else list(param.default))

    def _store(self, param: Param, value) -> None:
        self.values[param.name] = value
        setattr(self, param.attr, value)

    def param(self, name: str) -> Param:
        """The parameter called ``name`` (or an alias), KeyError if there is none."""
        return PARAMS_BY_NAME[name.lower()]

    def set(self, name: str, args: list) -> None:
        """Parse and store one directive (``args`` are its argument strings)."""
        param = self.param(name)
        self._store(param, param.parse(args))

    def get(self, name: str):
        """The parsed value of ``name``."""
        return self.values[self.param(name).name]

    def formatted(self, name: str) -> str:
        """The value of ``name`` as CONFIG GET prints it."""
        param = self.param(name)
        return param.format(self.values[param.name])
