"""redis.conf files: lines -> directives, with Redis's quoting and ``include``.

A directive is ``(args, source, line_number)`` where ``args[0]`` is the directive name.
Errors are reported the way redis-server reports them, naming the line::

    Reading the configuration file, at line 2
    >>> 'foo bar'
    Bad directive or wrong number of arguments
"""

import os

from ember.protocol.parser import split_inline
from ember.server.config import ConfigError


def parse_config_text(text: str, source: str, base_dir: str = ".", depth: int = 0) -> list:
    """Split config text into directives, following ``include`` lines."""
    directives = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        args = split_inline(line.encode())
        if args is None:
            raise ConfigError(_located(number, line, "Unbalanced quotes in configuration line"))
        args = [a.decode("utf-8", "surrogateescape") for a in args]
        if args[0].lower() == "include":
            if len(args) != 2:
                raise ConfigError(_located(number, line,
                                           "Bad directive or wrong number of arguments"))
            path = os.path.join(base_dir, args[1])
            if depth > 16:
                raise ConfigError(_located(number, line, "Too many nested includes"))
            directives.extend(read_config_file(path, depth + 1))
            continue
        directives.append((args, source, number, line))
    return directives


def read_config_file(path: str, depth: int = 0) -> list:
    """Read and split a config file."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
    except OSError as exc:
        raise ConfigError(f"Fatal error, can't open config file '{path}': {exc.strerror}")
    return parse_config_text(text, path, os.path.dirname(os.path.abspath(path)), depth)


def apply_directives(config, directives: list) -> None:
    """Apply directives in order; the first bad one raises ConfigError naming its line."""
    for entry in directives:
        args, number = entry[0], entry[2]
        line = entry[3] if len(entry) > 3 else " ".join(args)
        name = args[0].lower()
        try:
            config.param(name)
        except KeyError:
            raise ConfigError(_located(number, line,
                                       "Bad directive or wrong number of arguments"))
        try:
            config.set(name, args[1:])
        except ConfigError as exc:
            reason = str(exc)
            if reason == "wrong number of arguments":
                reason = "Bad directive or wrong number of arguments"
            raise ConfigError(_located(number, line, reason))


def _located(number: int, line: str, reason: str) -> str:
    return f"Reading the configuration file, at line {number}\n>>> '{line}'\n{reason}"
