"""Parameters with their own syntax: save, bind, client-output-buffer-limit, dir ...

Each follows the matching set/get/rewrite functions of Redis's config.c, error texts
included. Stored values are parsed Python structures that the rest of the server reads:

==============================  ==============================================
save                            [(seconds, changes), ...]
bind                            ["127.0.0.1", "-::1"]
client-output-buffer-limit      {"normal": (hard, soft, seconds), "replica": ..,
                                 "pubsub": ..}
oom-score-adj-values            [0, 200, 800]
notify-keyspace-events          Redis's normalised flag string ("AKE")
replicaof                       None or (host, port)
latency-tracking-info-percentiles  [50.0, 99.0, 99.9]
dir                             the working directory (absolute)
==============================  ==============================================
"""

import os
import re

from ember.protocol.numbers import parse_float
from ember.protocol.sdsrepr import sds_repr
from ember.server.config_types import (
    LLONG_MAX,
    ConfigError,
    Param,
    format_memory,
    memtoull,
)

BINDADDR_MAX = 16
OBUF_CLASSES = ("normal", "replica", "pubsub")
OBUF_DEFAULTS = {
    "normal": (0, 0, 0),
    "replica": (256 * 1024 * 1024, 64 * 1024 * 1024, 60),
    "pubsub": (32 * 1024 * 1024, 8 * 1024 * 1024, 60),
}
_OBUF_NAMES = {"normal": "normal", "slave": "replica", "replica": "replica",
               "pubsub": "pubsub"}

_STRTOLL = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")


def c_strtoll(text: str):
    """C's strtoll(text, &end, 10) with "*end == 0" required: the value, or None.

    Leading blanks and a sign are allowed, overflow saturates, and an empty string is 0.
    """
    if text == "":
        return 0
    match = _STRTOLL.match(text)
    if match is None or match.end() != len(text):
        return None
    value = int(match.group(1))
    return max(min(value, LLONG_MAX), -LLONG_MAX - 1)


def split_empty(args: list) -> list:
    """A single empty argument means "no arguments" (``save ""``, ``bind ""``)."""
    return [] if len(args) == 1 and args[0] == "" else list(args)


class SaveParam(Param):
    """``save <seconds> <changes> ...``; while loading a file, lines accumulate."""

    multi_arg = True

    def parse(self, args, current=None, loading=False):
        args = split_empty(args)
        if len(args) % 2:
            raise ConfigError("Invalid save parameters")
        pairs = []
        for i in range(0, len(args), 2):
            seconds, changes = c_strtoll(args[i]), c_strtoll(args[i + 1])
            if seconds is None or changes is None or seconds < 1 or changes < 0:
                raise ConfigError("Invalid save parameters")
            pairs.append((seconds, changes))
        if loading and pairs and current is not None:
            return list(current) + pairs
        return pairs

    def format(self, value):
        return " ".join(f"{s} {c}" for s, c in value)

    def rewrite(self, value):
        if not value:
            return [('save ""', True)]
        return [(f"save {s} {c}", True) for s, c in value]


class BindParam(Param):
    """``bind addr ...`` (a ``-`` prefix marks an address that may be missing)."""

    multi_arg = True

    def parse(self, args, current=None, loading=False):
        if len(args) > BINDADDR_MAX:
            raise ConfigError("Too many bind addresses specified.")
        return split_empty(args)

    def format(self, value):
        return " ".join(value)

    def rewrite(self, value):
        if value == self.default:
            return None
        return [(f"bind {' '.join(value) if value else chr(34) * 2}", True)]


class ClientOutputBufferLimitParam(Param):
    """``client-output-buffer-limit <class> <hard> <soft> <seconds> ...``: merges classes."""

    multi_arg = True

    def parse(self, args, current=None, loading=False):
        if len(args) % 4:
            raise ConfigError("Wrong number of arguments in buffer limit configuration.")
        result = dict(current if current is not None else self.default)
        for i in range(0, len(args), 4):
            kind = _OBUF_NAMES.get(args[i].lower())
            if kind is None:
                raise ConfigError("Invalid client class specified in buffer limit "
                                  "configuration.")
            hard, soft = memtoull(args[i + 1]), memtoull(args[i + 2])
            seconds = c_strtoll(args[i + 3])
            if hard is None or soft is None or seconds is None or seconds < 0:
                raise ConfigError("Error in hard, soft or soft_seconds setting in buffer "
                                  "limit configuration.")
            result[kind] = (hard, soft, seconds)
        return result

    def format(self, value):
        return " ".join("%s %d %d %d" % ((("slave" if k == "replica" else k),) + value[k])
                        for k in OBUF_CLASSES)

    def rewrite(self, value):
        lines = []
        for kind in OBUF_CLASSES:
            hard, soft, seconds = value[kind]
            line = (f"client-output-buffer-limit {kind} {format_memory(hard)} "
                    f"{format_memory(soft)} {seconds}")
            lines.append((line, value[kind] != OBUF_DEFAULTS[kind]))
        return lines


class OomScoreAdjValuesParam(Param):
    """``oom-score-adj-values <master> <replica> <bgchild>``."""

    multi_arg = True

    def parse(self, args, current=None, loading=False):
        if len(args) != 3:
            raise ConfigError("wrong number of arguments")
        values = []
        for arg in args:
            value = c_strtoll(arg)
            if value is None or not -2000 <= value <= 2000:
                raise ConfigError("Invalid oom-score-adj-values, elements must be between "
                                  "-2000 and 2000.")
            values.append(value)
        return values

    def format(self, value):
        return " ".join(str(v) for v in value)

    def rewrite(self, value):
        return [(f"{self.name} {self.format(value)}", value != self.default)]


# notify-keyspace-events: Redis's class characters, in the order it prints them.
_EVENT_CLASSES = "g$lshzxetdn"
_EVENT_ALL = "g$lshzxetd"          # what "A" stands for
_EVENT_TYPES = "KEm"


def normalize_keyspace_events(text: str) -> str:
    """Parse notify-keyspace-events flags into the form kept: as Redis prints them ("KEA"
    -> "AKE"), plus an "n" at the end when "A" hides it (Redis keeps the class but does
    not print it: "AKEn" is kept, "AKE" printed; see :func:`printed_keyspace_events`)."""
    flags = set()
    for char in text:
        if char == "A":
            flags.update(_EVENT_ALL)
        elif char in _EVENT_CLASSES or char in _EVENT_TYPES:
            flags.add(char)
        else:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
    if flags.issuperset(_EVENT_ALL):
        out = "A"
    else:
        out = "".join(c for c in _EVENT_CLASSES if c in flags)
    out += "".join(c for c in _EVENT_TYPES if c in flags)
    return out + "n" if out.startswith("A") and "n" in flags else out


def printed_keyspace_events(value: str) -> str:
    """The kept flags as CONFIG GET and CONFIG REWRITE print them (Redis's
    keyspaceEventsFlagsToString: after "A", no "n")."""
    return value.replace("n", "") if value.startswith("A") else value


class NotifyKeyspaceEventsParam(Param):
    """Keyspace notification classes; stored as Redis's normalised flag string."""

    def parse_one(self, text):
        return normalize_keyspace_events(text)

    def format(self, value):
        return printed_keyspace_events(value)

    def rewrite(self, value):
        return [(f"{self.name} {sds_repr(self.format(value))}", value != "")]


class ReplicaOfParam(Param):
    """``replicaof <host> <port>`` or ``replicaof no one``."""

    multi_arg = True

    def parse(self, args, current=None, loading=False):
        if len(args) != 2:
            raise ConfigError("wrong number of arguments")
        if args[0].lower() == "no" and args[1].lower() == "one":
            return None
        port = c_strtoll(args[1])
        if port is None or not 0 <= port <= 65535:
            raise ConfigError("Invalid master port")
        return (args[0], port)

    def format(self, value):
        return "" if value is None else f"{value[0]} {value[1]}"

    def rewrite(self, value):
        if value is None:
            return None
        return [(f"{self.name} {value[0]} {value[1]}", True)]


def format_percentile(value: float) -> str:
    """``%f`` with trailing zeros (and a trailing dot) removed, as Redis prints doubles."""
    text = "%f" % value
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class PercentilesParam(Param):
    """``latency-tracking-info-percentiles 50 99 99.9``."""

    multi_arg = True

    def parse(self, args, current=None, loading=False):
        values = []
        for arg in split_empty(args):
            value = parse_float(arg.encode("utf-8", "surrogateescape"))
            if value is None:
                raise ConfigError("Invalid latency-tracking-info-percentiles parameters")
            if not 0.0 <= value <= 100.0:
                raise ConfigError("latency-tracking-info-percentiles parameters should sit "
                                  "between [0.0,100.0]")
            values.append(value)
        return values

    def format(self, value):
        return " ".join(format_percentile(v) for v in value)

    def rewrite(self, value):
        text = self.format(value) if value else '""'
        return [(f"{self.name} {text}", True)]


class DirParam(Param):
    """``dir``: the working directory; setting it changes directory (chdir)."""

    def initial(self):
        return os.getcwd()

    def parse_one(self, text):
        try:
            os.chdir(text)
        except OSError as exc:
            raise ConfigError(exc.strerror or str(exc))
        return os.getcwd()

    def format(self, value):
        try:
            return os.getcwd()
        except OSError:
            return ""

    def rewrite(self, value):
        try:
            return [(f"dir {sds_repr(os.getcwd())}", True)]
        except OSError:
            return None


_TEMPLATE_VARS = {"title": "", "listen-addr": "*:6379", "server-mode": "", "port": "6379",
                  "tls-port": "0", "unixsocket": "", "config-file": "redis.conf"}


def validate_proc_title(template: str) -> None:
    """Redis's validateProcTitleTemplate: known {variables}, balanced, not empty."""
    out = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "{":
            if template.startswith("{{", i):
                out.append("{")
                i += 2
                continue
            end = template.find("}", i)
            if end < 0 or template[i + 1:end] not in _TEMPLATE_VARS:
                raise ConfigError("template format is invalid or contains unknown variables")
            out.append(_TEMPLATE_VARS[template[i + 1:end]])
            i = end + 1
            continue
        if char == "}":
            if not template.startswith("}}", i):
                raise ConfigError("template format is invalid or contains unknown variables")
            out.append("}")
            i += 2
            continue
        out.append(char)
        i += 1
    if not "".join(out).strip():
        raise ConfigError("template format is invalid or contains unknown variables")
