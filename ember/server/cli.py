"""`ember-server`: a drop-in for `redis-server` on the command line.

    ember-server [/path/to/redis.conf] [--port 7000 --bind 127.0.0.1 ...]

Options after the optional config file are directives, as in redis.conf, applied after
the file. The event loop is uvloop where it is installed, plain asyncio otherwise.
"""

import asyncio
import logging
import os
import sys

from ember import REDIS_VERSION, __version__
from ember.server.app import Server
from ember.server.config import Config, ConfigError

log = logging.getLogger("ember")

USAGE = """Usage: ember-server [/path/to/redis.conf] [options] [-]
       ember-server - (read config from stdin)
       ember-server -v or --version
       ember-server -h or --help

Examples:
       ember-server (run the server with default config)
       ember-server /etc/redis/6379.conf
       ember-server --port 7777
       ember-server /etc/myredis.conf --loglevel verbose -
"""


def split_option_args(argv: list) -> list:
    """Turn ``--port 7000 --bind a b`` into directive lines [["port","7000"], ["bind","a","b"]]."""
    directives = []
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            directives.append([arg[2:]])
        elif directives:
            directives[-1].append(arg)
        else:
            raise ConfigError(f"Invalid argument '{arg}'")
    return directives


def build_config(argv: list) -> Config:
    """Build the configuration from the command line (file first, then options)."""
    from ember.server.conffile import apply_directives, read_config_file

    config = Config()
    rest = list(argv)
    if rest and not rest[0].startswith("--") and rest[0] != "-":
        config.path = os.path.abspath(rest.pop(0))
        apply_directives(config, read_config_file(config.path))
    use_stdin = "-" in rest
    rest = [a for a in rest if a != "-"]
    if use_stdin:
        from ember.server.conffile import parse_config_text
        apply_directives(config, parse_config_text(sys.stdin.read(), "stdin"))
    apply_directives(config, [(d, "command line", 0) for d in split_option_args(rest)])
    return config


def setup_logging(config: Config) -> None:
    """Log like Redis: pid:role date level-mark message, to logfile or stdout."""
    levels = {"debug": logging.DEBUG, "verbose": logging.INFO, "notice": logging.INFO,
              "warning": logging.WARNING, "nothing": logging.CRITICAL + 10}
    handler = (logging.FileHandler(config.logfile) if config.logfile
               else logging.StreamHandler(sys.stdout))
    handler.setFormatter(logging.Formatter(
        f"{os.getpid()}:M %(asctime)s.%(msecs)03d * %(message)s", "%d %b %Y %H:%M:%S"))
    root = logging.getLogger("ember")
    root.handlers[:] = [handler]
    root.setLevel(levels[config.loglevel])
    root.propagate = False


def install_event_loop_policy() -> str:
    """Use uvloop where available; return the name of the loop in use."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


async def _serve(config: Config) -> int:
    server = Server(config)
    try:
        await server.start()
    except OSError as exc:
        log.warning("%s", exc)
        return 1
    server.install_signal_handlers()
    log.warning("Server initialized")
    log.warning("Ready to accept connections tcp on port %d", server.bound_port())
    await server.serve_until_stopped()
    log.warning("ember is now ready to exit, bye bye...")
    return 0


def main(argv: list = None) -> int:
    """Entry point of `ember-server` and `python -m ember`."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-v", "--version"):
        print(f"ember-server v={__version__} redis_version={REDIS_VERSION}")
        return 0
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    try:
        config = build_config(argv)
    except ConfigError as exc:
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (ember {__version__}) ***\n{exc}\n")
        return 1
    setup_logging(config)
    loop_name = install_event_loop_policy()
    log.warning("ember %s (redis %s compatible) starting, pid=%d, event loop %s",
                __version__, REDIS_VERSION, os.getpid(), loop_name)
    return asyncio.run(_serve(config))
