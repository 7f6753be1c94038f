"""CONFIG SET port / bind: move the listening sockets while the server runs.

As in Redis (changeListenPort, changeBindAddr) the new sockets are opened first; if any
required address cannot be bound the change is refused with Redis's text and the old
listeners stay. Otherwise the old listeners close and the new sockets start accepting.
Clients already connected are not affected.
"""

import logging
import socket

from ember.server.config import ConfigError

log = logging.getLogger("ember")


def open_sockets(hosts: list, port: int, backlog: int) -> list:
    """Bind and listen on every host (``-host`` may fail quietly); OSError otherwise."""
    sockets = []
    try:
        for entry in hosts or ["*"]:
            optional = entry.startswith("-")
            host = entry.lstrip("-")
            try:
                sockets.extend(_listen(host, port, backlog))
            except OSError as exc:
                if optional:
                    continue
                log.warning("Could not create server TCP listening socket %s:%d: %s",
                            host, port, exc.strerror)
                raise
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _listen(host: str, port: int, backlog: int) -> list:
    if host in ("*", "::*"):
        family = socket.AF_INET6 if host == "::*" else socket.AF_INET
        host = "::" if host == "::*" else "0.0.0.0"
        infos = [(family, host)]
    else:
        infos = [(info[0], info[4][0]) for info in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)][:1]
    result = []
    for family, address in infos:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
            sock.listen(backlog)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        result.append(sock)
    return result


PORT_ERROR = "Unable to listen on this port. Check server logs."
BIND_ERROR = "Failed to bind to specified addresses."


def make_applier(server, config):
    """One applier for both port and bind (run once when a CONFIG SET changes both)."""
    bound = {"bind": list(config.bind), "port": config.port}

    def apply(config) -> None:
        if server.loop is None or (config.bind == bound["bind"]
                                   and config.port == bound["port"]):
            return
        reason = BIND_ERROR if config.bind != bound["bind"] else PORT_ERROR
        # Close first (the new addresses may overlap the old ones), re-open the old
        # addresses if the new ones cannot all be bound.
        for listener in server.listeners:
            listener.close()
        server.listeners = []
        try:
            sockets = _open(config.bind, config.port, config.tcp_backlog)
        except OSError:
            try:
                _serve(server, _open(bound["bind"], bound["port"], config.tcp_backlog))
            except OSError:
                log.warning("Could not re-open the previous listening sockets")
            raise ConfigError(reason)
        bound["bind"], bound["port"] = list(config.bind), config.port
        _serve(server, sockets)

    return apply


def install(server, config) -> None:
    """Make CONFIG SET port and CONFIG SET bind take effect on ``server``."""
    applier = make_applier(server, config)
    config.add_applier("port", applier)
    config.add_applier("bind", applier)


def _open(hosts: list, port: int, backlog: int) -> list:
    return open_sockets(hosts, port, backlog) if port else []


def _serve(server, sockets: list) -> None:
    """Start accepting on already-listening sockets."""
    from ember.server.connection import Connection

    def attach(task):
        if not task.cancelled() and task.exception() is None:
            server.listeners.append(task.result())

    for sock in sockets:
        task = server.loop.create_task(server.loop.create_server(
            lambda: Connection(server), sock=sock))
        task.add_done_callback(attach)
