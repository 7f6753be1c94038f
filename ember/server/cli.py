"""`ember-server`: a drop-in for `redis-server` on the command line.

    ember-server [/path/to/redis.conf] [options] [-]

As in redis-server: a first argument not starting with ``-`` is the config file; ``-``
(first or last) reads more config from stdin; every ``--name`` starts a directive whose
arguments follow it, and these directives are applied after the file and stdin, as if
appended to them. The event loop is uvloop where it is installed, plain asyncio
otherwise.
"""

import asyncio
import logging
import os
import sys

from ember import REDIS_VERSION, __version__
from ember.protocol.parser import split_inline
from ember.protocol.sdsrepr import sds_repr
from ember.server.conffile import ConfigFileError, ConfigOpenError, load_server_config
from ember.server.config import Config, ConfigError
from ember.server.logsetup import RedisFormatter, set_role, setup_logging

log = logging.getLogger("ember")

USAGE = """Usage: ./ember-server [/path/to/redis.conf] [options] [-]
       ./ember-server - (read config from stdin)
       ./ember-server -v or --version
       ./ember-server -h or --help

Examples:
       ./ember-server (run the server with default conf)
       echo 'maxmemory 128mb' | ./ember-server -
       ./ember-server /etc/redis/6379.conf
       ./ember-server --port 7777
       ./ember-server --port 7777 --replicaof 127.0.0.1 8888
       ./ember-server /etc/myredis.conf --loglevel verbose -
       ./ember-server /etc/myredis.conf --loglevel verbose
"""


def version_line() -> str:
    """What ``--version`` prints (redis-server's shape, naming ember)."""
    bits = 64 if sys.maxsize > 2 ** 32 else 32
    return (f"ember-server v={__version__} redis_version={REDIS_VERSION} sha=00000000:0 "
            f"malloc=libc bits={bits} build=python-{sys.version.split()[0]}")


def parse_command_line(argv: list):
    """Split the arguments as redis-server does: (config file, read stdin?, options text).

    The options text holds one directive per line, arguments quoted as sdscatrepr does,
    ready to be parsed after the file's text.
    """
    j = 0
    configfile = None
    if argv and not argv[0].startswith("-"):
        configfile = os.path.abspath(argv[0])
        j = 1
    from_stdin = False
    options = ""
    handled_last = True
    count = len(argv)
    while j < count:
        arg = argv[j]
        if arg == "-" and (j == 0 or j == count - 1):
            from_stdin = True
        elif handled_last and arg.startswith("--"):
            if options:
                options += "\n"
            options += arg[2:] + " "
            if len(split_inline(arg.encode("utf-8", "surrogateescape")) or ()) == 1:
                # Only a name ("--port"): its arguments follow. A bare --save (last, or
                # followed by another option) means save "", as in Redis.
                handled_last = False
                last = j == count - 1
                if arg.lower() == "--save" and (last or argv[j + 1].startswith("--")):
                    options += '""'
                    handled_last = not last
            else:
                handled_last = True     # "--port 6380" in one argument
        else:
            options += sds_repr(arg) + " "
            handled_last = True
        j += 1
    return configfile, from_stdin, options


def build_config(argv: list, stdin=None) -> Config:
    """Build the configuration from the command line (file, then stdin, then options)."""
    configfile, from_stdin, options = parse_command_line(argv)
    config = Config()
    config.path = configfile
    stdin_text = None
    if from_stdin:
        source = stdin if stdin is not None else sys.stdin.buffer
        stdin_text = source.read()
    load_server_config(config, configfile, stdin_text, options)
    return config


_RESERVED_FDS = 32  # Redis's CONFIG_MIN_RESERVED_FDS: listeners, logs, files


def adjust_open_files_limit(config: Config) -> None:
    """Raise the open-files limit to maxclients + 32, or lower maxclients, as Redis does.

    Without it, the default soft limit (often 1024) would fail accept() long before
    maxclients connections and no client would get "max number of clients reached".
    """
    try:
        import resource
    except ImportError:  # not on this platform
        return
    wanted = config.maxclients + _RESERVED_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    error = None
    try:  # raising the hard limit too works where the process may (CAP_SYS_RESOURCE)
        new_hard = hard if hard == resource.RLIM_INFINITY else max(hard, wanted)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, new_hard))
        best = wanted
    except (OSError, ValueError) as exc:
        error = getattr(exc, "strerror", None) or str(exc)
        best = soft
        if hard != resource.RLIM_INFINITY and hard > soft:
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
                best = hard
            except (OSError, ValueError):
                pass
    if best >= wanted:
        log.info("Increased maximum number of open files to %d (it was originally set to "
                 "%d).", wanted, soft)
        return
    if best <= _RESERVED_FDS:
        log.warning("Your current 'ulimit -n' of %d is not enough for the server to start. "
                    "Please increase your open file limit to at least %d. Exiting.",
                    soft, wanted)
        sys.exit(1)
    log.warning("You requested maxclients of %d requiring at least %d max file "
                "descriptors.", config.maxclients, wanted)
    log.warning("Server can't set maximum open files to %d because of OS error: %s.",
                wanted, error)
    config.set("maxclients", [str(best - _RESERVED_FDS)])
    log.warning("Current maximum open files is %d. maxclients has been reduced to %d to "
                "compensate for low ulimit. If you need higher maxclients increase "
                "'ulimit -n'.", best, config.maxclients)


def apply_maxclients(config: Config) -> None:
    """CONFIG SET maxclients: adjust the open-files limit, refuse what the OS cannot do."""
    wanted = config.maxclients
    adjust_open_files_limit(config)
    if config.maxclients != wanted:
        raise ConfigError("The operating system is not able to handle the specified number "
                          f"of clients, try with {config.maxclients}")


def install_event_loop_policy() -> str:
    """Use uvloop where available; return the name of the loop in use."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def _early_log(message: str) -> None:
    """A warning line before logging is set up (Redis prints these to stdout)."""
    record = logging.LogRecord("ember", logging.WARNING, "", 0, message, None, None)
    sys.stdout.write(RedisFormatter().format(record) + "\n")
    sys.stdout.flush()


async def _serve(config: Config) -> int:
    from ember.server import rebind
    from ember.server.app import Server
    from ember.server.daemon import remove_pidfile, write_pidfile

    server = Server(config)
    engine = server.engine
    set_role(lambda: "S" if engine.hooks.get("role", "master") in ("slave", "replica")
             else "M")
    try:
        await server.start()
    except OSError as exc:
        log.warning("%s", exc)
        log.warning("Failed listening on port %d (tcp), aborting.", config.port)
        return 1
    if not await server.persistence.load_at_startup():     # RDB or AOF; -LOADING meanwhile
        return 1
    pidfile = config.pidfile
    if pidfile and not write_pidfile(pidfile):
        pidfile = ""
    rebind.install(server, config)
    config.add_applier("maxclients", apply_maxclients)
    server.install_signal_handlers()
    log.info("Server initialized")
    log.info("Ready to accept connections tcp")
    await server.serve_until_stopped()
    if pidfile:
        remove_pidfile(pidfile)
    log.warning("ember is now ready to exit, bye bye...")
    return 0


def main(argv: list = None) -> int:
    """Entry point of `ember-server` and `python -m ember`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-v", "--version"):
        print(version_line())
        return 0
    if argv and argv[0] in ("-h", "--help"):
        sys.stderr.write(USAGE)
        return 1
    try:
        config = build_config(argv)
    except ConfigOpenError as exc:
        _early_log(str(exc))
        return 1
    except ConfigFileError as exc:
        sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (ember {__version__}) ***\n"
                         f"{exc}\n")
        return 1
    if config.daemonize:
        from ember.server.daemon import DEFAULT_PIDFILE, daemonize

        daemonize()
        if not config.pidfile:
            config.set("pidfile", [DEFAULT_PIDFILE])
    setup_logging(config.logfile, config.loglevel)
    adjust_open_files_limit(config)
    loop_name = install_event_loop_policy()
    log.info("oO0OoO0OoO0Oo ember is starting oO0OoO0OoO0Oo")
    log.info("ember version=%s, redis_version=%s, bits=%d, port=%d, pid=%d, just started",
             __version__, REDIS_VERSION, 64 if sys.maxsize > 2 ** 32 else 32, config.port,
             os.getpid())
    if not argv:
        log.warning("Warning: no config file specified, using the default config. In order "
                    "to specify a config file use ember-server /path/to/redis.conf")
    else:
        log.info("Configuration loaded")
    log.info("Running mode=standalone, port=%d, event loop=%s.", config.port, loop_name)
    return asyncio.run(_serve(config))
