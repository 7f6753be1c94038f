"""Logging the way Redis logs: ``pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message``.

The mark follows the level as in Redis: ``.`` debug, ``-`` verbose, ``*`` notice,
``#`` warning. Python levels map onto Redis's: DEBUG -> debug, :data:`VERBOSE` (15) ->
verbose, INFO -> notice, WARNING and above -> warning. Code anywhere logs through
``logging.getLogger("ember")``; ``loglevel`` (changeable with CONFIG SET) filters it and
``logfile`` (empty = stdout) says where it goes.
"""

import logging
import os
import sys
import time

VERBOSE = 15
logging.addLevelName(VERBOSE, "VERBOSE")

LEVELS = {"debug": logging.DEBUG, "verbose": VERBOSE, "notice": logging.INFO,
          "warning": logging.WARNING, "nothing": logging.CRITICAL + 10}

log = logging.getLogger("ember")

# Who we are in log lines: 'C' until the server is set up (as Redis does before its
# pid is recorded), then 'M' (master) or 'S' (replica), as role() says.
_state = {"role": lambda: "C"}


def mark(levelno: int) -> str:
    """Redis's level mark for a Python log level."""
    if levelno >= logging.WARNING:
        return "#"
    if levelno >= logging.INFO:
        return "*"
    if levelno >= VERBOSE:
        return "-"
    return "."


class RedisFormatter(logging.Formatter):
    """Formats records as Redis log lines."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        millis = int((record.created - seconds) * 1000)
        stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(seconds))
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return f"{os.getpid()}:{_state['role']()} {stamp}.{millis:03d} " \
               f"{mark(record.levelno)} {text}"


def set_role(role) -> None:
    """Install the function that gives the role letter ('M' master, 'S' replica)."""
    _state["role"] = role


def apply_level(loglevel: str) -> None:
    """Make ``loglevel`` (debug verbose notice warning nothing) the threshold now."""
    log.setLevel(LEVELS[loglevel])


def setup_logging(logfile: str, loglevel: str) -> None:
    """Send ember's log to ``logfile`` (appending) or to stdout when it is empty."""
    if logfile:
        handler = logging.FileHandler(logfile, encoding="utf-8", errors="backslashreplace")
    else:
        handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedisFormatter())
    for old in log.handlers[:]:
        log.removeHandler(old)
        old.close()
    log.addHandler(handler)
    log.propagate = False
    apply_level(loglevel)
