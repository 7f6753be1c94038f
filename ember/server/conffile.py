"""redis.conf files: text -> directives applied to a Config, as redis-server reads them.

Follows Redis's loadServerConfigFromString: lines are split on ``\\n`` and trimmed,
``#`` lines and blank lines are skipped, arguments are split with sdssplitargs' quoting,
the directive name is case-insensitive, a parameter's line replaces the value (``save``
lines accumulate, ``client-output-buffer-limit`` lines merge per client class), and
``include`` reads another file (a glob pattern includes every match, none is fine).

The first bad line stops everything; :class:`ConfigFileError` carries Redis's text::

    Reading the configuration file, at line 2
    >>> 'foo "bar"'
    Bad directive or wrong number of arguments
"""

import glob

from ember.protocol.parser import split_inline
from ember.server.config import ConfigError

# Accepted and ignored, as Redis does: (name, min argc, max argc) counting the name.
DEPRECATED = {"list-max-ziplist-entries": (2, 2), "list-max-ziplist-value": (2, 2),
              "lua-replicate-commands": (2, 2)}
_MAX_INCLUDE_DEPTH = 32


class ConfigFileError(ConfigError):
    """A fatal problem in the configuration: redis-server's FATAL CONFIG FILE ERROR text."""


class ConfigOpenError(ConfigError):
    """A config file that cannot be read (Redis logs this and exits)."""


def read_file_bytes(path: str) -> bytes:
    """The contents of a config file, or ConfigOpenError with Redis's message."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigOpenError(f"Fatal error, can't open config file '{path}': "
                              f"{exc.strerror}")


def read_config_file(path: str) -> bytes:
    """A file's text, or every file a glob pattern matches (in order), concatenated."""
    if any(c in path for c in "*?["):
        return b"".join(read_file_bytes(p) for p in sorted(glob.glob(path)))
    return read_file_bytes(path)


def load_config_text(config, text, depth: int = 0) -> None:
    """Apply every directive of ``text`` (bytes or str) to ``config``, in order."""
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    lines = text.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        line = raw.strip(b" \t\r\n")
        if not line or line.startswith(b"#"):
            continue
        args = split_inline(line)
        shown = line.decode("utf-8", "surrogateescape")
        if args is None:
            raise _located(number, shown, "Unbalanced quotes in configuration line")
        if not args:
            continue
        args = [a.decode("utf-8", "surrogateescape") for a in args]
        try:
            apply_directive(config, args, depth)
        except ConfigFileError:
            raise
        except ConfigOpenError:
            raise
        except ConfigError as exc:
            raise _located(number, shown, str(exc))


def apply_directive(config, args: list, depth: int = 0) -> None:
    """Apply one directive (``args[0]`` is its name); ConfigError(reason) if it is bad."""
    name = args[0].lower()
    if config.has(name):
        config.set(name, args[1:], loading=True)
        return
    if name in DEPRECATED and DEPRECATED[name][0] <= len(args) <= DEPRECATED[name][1]:
        return
    if name == "include" and len(args) == 2:
        if depth >= _MAX_INCLUDE_DEPTH:
            raise ConfigError("Too many nested include directives")
        load_config_text(config, read_config_file(args[1]), depth + 1)
    elif name == "rename-command" and len(args) == 3:
        rename_command(args[1], args[2])
        config.rename_commands.append((args[1], args[2]))
    elif name == "user" and len(args) >= 2:
        config.user_directives.append(args[1:])
    elif name == "loadmodule" and len(args) >= 2:
        raise ConfigError(f"Module {args[1]} failed to load: ember does not load Redis "
                          "modules")
    elif "." in name:
        if len(args) != 2:
            raise ConfigError("Module config specified without value")
        raise ConfigError("Module Configuration detected without loadmodule directive")
    elif name == "sentinel":
        if len(args) != 1:
            raise ConfigError("sentinel directive while not in sentinel mode")
    else:
        raise ConfigError("Bad directive or wrong number of arguments")


def rename_command(old: str, new: str) -> None:
    """``rename-command OLD NEW``: the command is reachable only as NEW ("" removes it)."""
    from ember.commands import load_all
    from ember.commands.registry import COMMANDS

    load_all()
    spec = COMMANDS.get(old.lower())
    if spec is None:
        raise ConfigError("No such command in rename-command")
    del COMMANDS[old.lower()]
    if new:
        if new.lower() in COMMANDS:
            raise ConfigError("Target command name already exists")
        COMMANDS[new.lower()] = spec


def load_server_config(config, path: str = None, stdin_text=None, options: str = "") -> None:
    """Load the file, then stdin, then the command-line options, as one text.

    Like redis-server, the three are joined before parsing, so the line numbers in an
    error message count across them (the options start on their own line).
    """
    text = b""
    if path is not None:
        text = read_config_file(path)
    if stdin_text is not None:
        text += stdin_text if isinstance(stdin_text, bytes) else stdin_text.encode(
            "utf-8", "surrogateescape")
    if options:
        text += b"\n" + options.encode("utf-8", "surrogateescape")
    load_config_text(config, text)
    try:
        config.finish_loading()
    except ConfigError as exc:
        raise ConfigFileError(str(exc))


def _located(number: int, line: str, reason: str) -> ConfigFileError:
    return ConfigFileError(f"Reading the configuration file, at line {number}\n"
                           f">>> '{line}'\n{reason}")
