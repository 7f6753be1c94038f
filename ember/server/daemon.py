"""``daemonize yes`` and ``pidfile``: running in the background as redis-server does.

Daemonizing happens before the event loop exists: fork, setsid, fork again (so the
daemon can never reacquire a terminal), then point stdin/stdout/stderr at /dev/null. The
original process exits 0 at once, as redis-server's does.
"""

import logging
import os

log = logging.getLogger("ember")

# Where the pid goes when daemonized without a pidfile (Redis: /var/run/redis.pid).
DEFAULT_PIDFILE = "/var/run/ember.pid"


def daemonize() -> None:
    """Detach from the terminal and continue in a grandchild process."""
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    if os.fork() != 0:
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def write_pidfile(path: str) -> bool:
    """Write our pid to ``path``; log (and go on) if that fails, as Redis does."""
    try:
        with open(path, "w") as handle:
            handle.write(f"{os.getpid()}\n")
        return True
    except OSError as exc:
        log.warning("Failed to write PID file: %s", exc.strerror)
        return False


def remove_pidfile(path: str) -> None:
    """Remove the pidfile on a clean shutdown."""
    log.info("Removing the pid file.")
    try:
        os.unlink(path)
    except OSError:
        pass
