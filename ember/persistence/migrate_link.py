"""MIGRATE's connection to the target server: blocking sockets with a timeout, cached per
host:port for 10 seconds (Redis's migrateGetSocket / migrateCloseTimedoutSockets), and
the exchange Redis performs: [AUTH] [SELECT] RESTORE..., one reply line each.

A command may not use asyncio, and Redis itself blocks while migrating, so this is plain
socket I/O bounded by the command's timeout.
"""

import socket
import time

from ember.errors import ReplyError

CACHE_TTL = 10.0          # seconds a cached socket may stay idle
CACHE_ITEMS = 64          # MIGRATE_SOCKET_CACHE_ITEMS
_CHUNK = 64 * 1024


class _Link:
    __slots__ = ("sock", "last_dbid", "last_use", "pending")

    def __init__(self, sock):
        self.sock = sock
        self.last_dbid = -1
        self.last_use = time.monotonic()
        self.pending = b""


class _LinkError(Exception):
    def __init__(self, writing: bool, timed_out: bool):
        super().__init__("writing" if writing else "reading")
        self.writing = writing
        self.timed_out = timed_out


def _bulk(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def _cache(engine) -> dict:
    cache = engine.hooks.get("migrate_sockets")
    if cache is None:
        cache = engine.hooks["migrate_sockets"] = {}
        # migrateCloseTimedoutSockets: the server cron closes idle sockets
        engine.hooks.setdefault("cron", []).append(lambda: close_idle(cache))
    close_idle(cache)
    return cache


def close_idle(cache: dict) -> None:
    """Close the cached sockets unused for more than CACHE_TTL seconds."""
    now = time.monotonic()
    for name, link in list(cache.items()):
        if now - link.last_use > CACHE_TTL:
            _close(cache, name)


def _close(cache: dict, name) -> None:
    link = cache.pop(name, None)
    if link is not None:
        try:
            link.sock.close()
        except OSError:
            pass


def close_all(engine) -> None:
    """Close every cached MIGRATE socket (server shutdown, tests)."""
    cache = engine.hooks.get("migrate_sockets") or {}
    for name in list(cache):
        _close(cache, name)


def _connect(cache: dict, name, host: str, port: int, timeout: float) -> _Link:
    link = cache.get(name)
    if link is not None:
        link.last_use = time.monotonic()
        return link
    if len(cache) >= CACHE_ITEMS:
        _close(cache, next(iter(cache)))
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (socket.gaierror, TimeoutError):
        raise ReplyError("IOERR error or timeout connecting to the client")
    except (OSError, ValueError, OverflowError):
        # Redis's non-blocking connect "succeeds" and the refusal shows when writing
        raise _LinkError(True, False)
    link = cache[name] = _Link(sock)
    return link


def _read_line(link: _Link, deadline: float) -> bytes:
    """One reply line (syncReadLine), without its CRLF."""
    while b"\n" not in link.pending:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _LinkError(False, True)
        link.sock.settimeout(left)
        try:
            chunk = link.sock.recv(16384)
        except TimeoutError:
            raise _LinkError(False, True)
        except OSError:
            raise _LinkError(False, False)
        if not chunk:
            raise _LinkError(False, False)
        link.pending += chunk
    line, link.pending = link.pending.split(b"\n", 1)
    return line.rstrip(b"\r")


def _send(link: _Link, data: bytes, timeout: float) -> None:
    for pos in range(0, len(data), _CHUNK):
        link.sock.settimeout(timeout)
        try:
            link.sock.sendall(data[pos:pos + _CHUNK])
        except TimeoutError:
            raise _LinkError(True, True)
        except OSError:
            raise _LinkError(True, False)


def transfer(engine, host: bytes, port: bytes, dbid: int, timeout: float, batch: list,
             replace: bool, username, password) -> tuple:
    """Send ``batch`` [(key, ttl ms, payload)] to host:port as RESTORE commands.

    Returns ``(acknowledged keys, error text or None)``; raises ReplyError for a failed
    connection or I/O error (``IOERR ...``), after one retry on a fresh socket when the
    cached one failed before any reply and not by a timeout (as Redis does).
    """
    name = host + b":" + port
    host_text = host.decode("latin-1")
    try:
        port_num = int(port)
    except ValueError:
        port_num = 0
    may_retry = True
    while True:
        cache = _cache(engine)
        try:
            link = _connect(cache, name, host_text, port_num, timeout)
        except _LinkError as exc:
            if may_retry:
                may_retry = False
                continue
            raise ReplyError("IOERR error or timeout %s to target instance"
                             % ("writing" if exc.writing else "reading"))
        parts = []
        if password is not None:
            parts.append(_bulk(b"AUTH", username, password) if username is not None
                         else _bulk(b"AUTH", password))
        select = link.last_dbid != dbid
        if select:
            parts.append(_bulk(b"SELECT", dbid))
        for key, ttl, payload in batch:
            args = [b"RESTORE", key, ttl, payload]
            if replace:
                args.append(b"REPLACE")
            parts.append(_bulk(*args))
        acked = []
        error = None
        done = 0
        try:
            _send(link, b"".join(parts), timeout)
            deadline = time.monotonic() + timeout
            auth_reply = _read_line(link, deadline) if password is not None else b"+"
            select_reply = _read_line(link, deadline) if select else b"+"
            for key, _, _ in batch:
                reply = _read_line(link, time.monotonic() + timeout)
                done += 1
                failed = (auth_reply[:1] == b"-" and auth_reply or
                          select_reply[:1] == b"-" and select_reply or
                          reply[:1] == b"-" and reply)
                if failed:
                    if error is None:
                        link.last_dbid = -1
                        error = ("ERR Target instance replied with error: "
                                 + failed[1:].decode("utf-8", "replace"))
                else:
                    acked.append(key)
        except _LinkError as exc:
            _close(cache, name)
            if error is None and done == 0 and may_retry and not exc.timed_out:
                may_retry = False
                continue
            if error is None:
                if acked:
                    return acked, ("IOERR error or timeout %s to target instance"
                                   % ("writing" if exc.writing else "reading"))
                raise ReplyError("IOERR error or timeout %s to target instance"
                                 % ("writing" if exc.writing else "reading"))
            return acked, error
        if error is None:
            link.last_dbid = dbid
        link.last_use = time.monotonic()
        return acked, error
