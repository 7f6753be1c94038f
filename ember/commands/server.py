"""Server commands: TIME, LASTSAVE, SLOWLOG, LATENCY and MONITOR.

The slow log and the latency events are recorded by the dispatcher
(:mod:`ember.commands.slowlog`); MONITOR puts the client on ``engine.monitors``, which
the dispatcher feeds after every command (:func:`ember.commands.runtime.feed_monitors`).
"""

import time

from ember.commands import runtime
from ember.commands.args import int_arg, text
from ember.commands.client import subcommand_syntax_error
from ember.commands.registry import command
from ember.errors import ReplyError
from ember.protocol.replies import OK, Status, Verbatim


def help_reply(name: str, lines: tuple) -> list:
    """A HELP reply in Redis's shape: heading, the lines, then HELP itself."""
    head = f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return [Status(line) for line in (head, *lines, "HELP", "    Prints this help.")]


@command("time", arity=1, flags="loading stale fast", group="server", since="2.6.0")
def time_(ctx, argv):
    """Returns the server time."""
    now_us = time.time_ns() // 1000
    return [b"%d" % (now_us // 1_000_000), b"%d" % (now_us % 1_000_000)]


@command("lastsave", arity=1, flags="loading stale fast", group="server", since="1.0.0")
def lastsave(ctx, argv):
    """Returns the Unix timestamp of the last successful save to disk."""
    return ctx.engine.lastsave


# ---- SLOWLOG ----------------------------------------------------------------------------

command("slowlog", arity=-2, container=True, group="server", since="2.2.12")

SLOWLOG_HELP = (
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
)


@command("slowlog|get", arity=-2, flags="admin loading stale", group="server",
         since="2.2.12")
def slowlog_get(ctx, argv):
    """Returns the slow log's entries."""
    if len(argv) > 3:
        raise subcommand_syntax_error(argv)
    slowlog = ctx.engine.slowlog
    count = 10
    if len(argv) == 3:
        count = int_arg(argv[2], "ERR count should be greater than or equal to -1")
        if count < -1:
            raise ReplyError("ERR count should be greater than or equal to -1")
        if count == -1:
            count = len(slowlog.entries)
    return slowlog.get(count)


@command("slowlog|len", arity=2, flags="admin loading stale", group="server",
         since="2.2.12")
def slowlog_len(ctx, argv):
    """Returns the number of entries in the slow log."""
    return len(ctx.engine.slowlog.entries)


@command("slowlog|reset", arity=2, flags="admin loading stale", group="server",
         since="2.2.12")
def slowlog_reset(ctx, argv):
    """Clears all entries from the slow log."""
    ctx.engine.slowlog.reset()
    return OK


@command("slowlog|help", arity=2, flags="loading stale", group="server", since="6.2.0")
def slowlog_help(ctx, argv):
    """Show helpful text about the different subcommands."""
    return help_reply("SLOWLOG", SLOWLOG_HELP)


# ---- LATENCY ----------------------------------------------------------------------------

command("latency", arity=-2, container=True, group="server", since="2.8.13")

LATENCY_HELP = (
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for "
    "the specified command names.",
    "    If no commands are specified then all histograms are replied.",
)

_DOCTOR_DISABLED = (
    "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
    "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
    "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
    "at https://redis.io/topics/latency-monitor.\n")
_DOCTOR_CALM = (
    "Dave, no latency spike was observed during the lifetime of this Redis instance, not "
    "in the slightest bit. I honestly think you ought to sit down calmly, take a stress "
    "pill, and think things over.\n")
_ADVICE_SLOWLOG_ENABLE = (
    "- Please enable the Slow Log, using 'CONFIG SET slowlog-log-slower-than "
    "<microseconds>' and 'CONFIG SET slowlog-max-len 128'.\n")
_ADVICE_SLOWLOG_TUNE = (
    "- Your current Slow Log configuration only logs events that are slower than your "
    "configured latency monitor threshold. Please use 'CONFIG SET "
    "slowlog-log-slower-than %d'.\n")
_ADVICE_SLOWLOG_INSPECT = (
    "- Check your Slow Log to understand what are the commands you are running which are "
    "too slow to execute. Please check https://redis.io/commands/slowlog for more "
    "information.\n")
_ADVICE_LARGE_OBJECTS = (
    "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
    "blocking operation. If you have very large objects that are often deleted, expired, "
    "or evicted, try to fragment those objects into multiple smaller objects.\n")


def latency_report(engine) -> str:
    """LATENCY DOCTOR's text: each event's spikes, then advice."""
    config = engine.config
    events = engine.latency.events
    if not events:
        return _DOCTOR_DISABLED if not config.latency_monitor_threshold else _DOCTOR_CALM
    report = ["Dave, I have observed latency spikes in this Redis instance. You don't mind "
              "talking about it, do you Dave?\n\n"]
    now = int(time.time())
    for number, (name, series) in enumerate(events.items(), start=1):
        values = [ms for _, ms in series.samples]
        count = len(values)
        avg = sum(values) // count
        mad = sum(abs(v - avg) for v in values) // count
        period = max(now - min(when for when, _ in series.samples), 1)
        report.append(
            "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). "
            "Worst all time event %dms.\n" % (number, name, count, avg, mad, period / count,
                                              series.max))
    report.append("\nI have a few advices for you:\n\n")
    threshold = config.slowlog_log_slower_than
    if threshold < 0 or config.slowlog_max_len == 0:
        report.append(_ADVICE_SLOWLOG_ENABLE)
    elif threshold // 1000 > config.latency_monitor_threshold:
        report.append(_ADVICE_SLOWLOG_TUNE % (config.latency_monitor_threshold * 1000))
    report.append(_ADVICE_SLOWLOG_INSPECT)
    report.append(_ADVICE_LARGE_OBJECTS)
    return "".join(report)


@command("latency|latest", arity=2, flags="admin noscript loading stale", group="server",
         since="2.8.13")
def latency_latest(ctx, argv):
    """Returns the latest latency samples for all events."""
    return ctx.engine.latency.latest()


@command("latency|history", arity=3, flags="admin noscript loading stale", group="server",
         since="2.8.13")
def latency_history(ctx, argv):
    """Returns timestamp-latency samples for an event."""
    return ctx.engine.latency.history(text(argv[2]))


@command("latency|reset", arity=-2, flags="admin noscript loading stale", group="server",
         since="2.8.13")
def latency_reset(ctx, argv):
    """Resets the latency data for one or more events."""
    return ctx.engine.latency.reset([text(arg) for arg in argv[2:]])


@command("latency|doctor", arity=2, flags="admin noscript loading stale", group="server",
         since="2.8.13")
def latency_doctor(ctx, argv):
    """Returns a human-readable latency analysis report."""
    return Verbatim(latency_report(ctx.engine).encode())


@command("latency|help", arity=2, flags="loading stale", group="server", since="2.8.13")
def latency_help(ctx, argv):
    """Returns helpful text about the different subcommands."""
    return help_reply("LATENCY", LATENCY_HELP)


# ---- MONITOR ----------------------------------------------------------------------------

@command("monitor", arity=1, flags="admin noscript loading stale", group="server",
         since="1.0.0")
def monitor(ctx, argv):
    """Listens for all requests received by the server in real-time."""
    if "deny_blocking" in ctx.flags:
        # A client that expects one reply per command (EXEC, scripts) cannot monitor.
        raise ReplyError("ERR MONITOR isn't allowed for DENY BLOCKING client")
    if ctx.monitor:
        # Redis ignores MONITOR from a client that already monitors: no reply at all.
        if ctx.reply_mode == "on":
            ctx.reply_mode = "skip"
        return OK
    engine = ctx.engine
    ctx.monitor = True
    engine.monitors.append(ctx)
    resets = engine.hooks.setdefault("reset", [])
    if runtime.stop_monitoring not in resets:
        resets.append(runtime.stop_monitoring)
    return OK
