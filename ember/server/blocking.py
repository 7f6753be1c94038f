"""Blocking commands, the network half: deadlines on loop timers, late replies.

The sans-IO registry (:mod:`ember.commands.blocking`) decides who blocks and who is
served; this module carries it out on the event loop:

* a client that blocks with a deadline gets one ``loop.call_later`` timer (no polling:
  the loop sleeps while clients wait);
* when the client is served, times out, is unblocked by CLIENT UNBLOCK or disconnects,
  its timer is cancelled, the reply is written to its own connection (honouring CLIENT
  REPLY OFF/SKIP, in its protocol version), and the commands it pipelined behind the
  blocking one run on the next loop iteration.

The connection holds a blocked client's further commands in ``Connection.pending`` and
does not run them while ``client.blocked`` is set.
"""

import asyncio

from ember.commands.blocking import GONE
from ember.protocol.encoder import ENCODERS_RESP2, ENCODERS_RESP3


def install(server) -> None:
    """Have ``server`` carry out the engine's blocking registry."""
    registry = server.engine.blocking
    registry.on_block = lambda waiter: arm_timer(server, waiter)
    registry.on_release = lambda waiter, reply: release(server, waiter, reply)
    # Keys made ready outside a command (active expiry, for XREADGROUP's deleted-key
    # wake-up) are served by the cron, as Redis's beforeSleep does.
    server.engine.hooks.setdefault("cron", []).append(
        lambda: registry.ready and registry.handle_ready())


def arm_timer(server, waiter) -> None:
    """Schedule the timeout of a client that just blocked (none for timeout 0)."""
    if not waiter.deadline_ms:
        return
    delay = max(waiter.deadline_ms - server.engine.now(), 0) / 1000
    waiter.timer = asyncio.get_running_loop().call_later(delay, _deadline, server, waiter)


def _deadline(server, waiter) -> None:
    """The timer fired: time the client out, unless the clock says it is early."""
    waiter.timer = None
    if not waiter.active:
        return
    engine = server.engine
    engine.tick()
    remaining = waiter.deadline_ms - engine.now()
    if remaining > 0:           # the wall clock moved back: wait for the rest
        waiter.timer = asyncio.get_running_loop().call_later(
            remaining / 1000, _deadline, server, waiter)
        return
    engine.blocking.time_out(waiter)


def release(server, waiter, reply) -> None:
    """A blocked client is done: cancel its timer, reply, and resume its connection."""
    if waiter.timer is not None:
        waiter.timer.cancel()
        waiter.timer = None
    conn = waiter.client.conn
    if reply is GONE or conn is None or conn.closing:
        return
    send_reply(conn, reply)
    asyncio.get_running_loop().call_soon(resume, conn)


def send_reply(conn, reply) -> None:
    """Write one late reply as the connection would have (CLIENT REPLY modes)."""
    client = conn.client
    mode = client.reply_mode
    if mode == "on":
        encoders = ENCODERS_RESP2 if client.resp == 2 else ENCODERS_RESP3
        conn.write(encoders[type(reply)](reply))
    elif mode == "skip":
        client.reply_mode = "on"
    elif mode == "skip-next":
        client.reply_mode = "skip"


def resume(conn) -> None:
    """Run the commands a client sent while it was blocked (unless it blocked again)."""
    if conn.closing or conn.client.blocked is not None or conn.paused:
        return
    commands, conn.pending = conn.pending, []
    conn.run_commands(commands)     # also answers a protocol error that waited behind
