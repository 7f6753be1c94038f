"""CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO.

Option parsing and the checks between options follow Redis's clientCommand, error texts
included; the state itself and the invalidations are :mod:`ember.commands.tracking`'s.
"""

from ember.commands.args import int_arg, text
from ember.commands.registry import command
from ember.commands.tracking import tracker
from ember.errors import SYNTAX, ReplyError
from ember.protocol.replies import OK, SetReply

_FLAGS = "noscript loading stale"
_SWITCH_MODE = ("ERR You can't switch %s before disabling tracking for this client, "
                "and then re-enabling it with a different mode.")


def _overlap(a: bytes, b: bytes) -> bool:
    """Two prefixes collide when one starts the other (both would see the same keys)."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def _check_prefixes(state, prefixes: list) -> None:
    """Redis's checkPrefixCollisionsOrReply."""
    existing = sorted(state.prefixes) if state is not None else []
    for i, prefix in enumerate(prefixes):
        for old in existing:
            if _overlap(old, prefix):
                raise ReplyError(
                    "ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a "
                    "single client must not overlap." % (text(prefix), text(old)))
        for other in prefixes[i + 1:]:
            if _overlap(prefix, other):
                raise ReplyError(
                    "ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes "
                    "for a single client must not overlap." % (text(prefix), text(other)))


def _parse_options(ctx, argv) -> dict:
    options = {"redirect": 0, "bcast": False, "optin": False, "optout": False,
               "noloop": False, "prefixes": []}
    i = 3
    while i < len(argv):
        word = argv[i].lower()
        more = i + 1 < len(argv)
        if word == b"redirect" and more:
            i += 1
            if options["redirect"]:
                raise ReplyError("ERR A client can only redirect to a single other client")
            redirect = int_arg(argv[i])
            if redirect not in ctx.engine.clients:
                raise ReplyError("ERR The client ID you want redirect to does not exist")
            options["redirect"] = redirect
        elif word in (b"bcast", b"optin", b"optout", b"noloop"):
            options[word.decode()] = True
        elif word == b"prefix" and more:
            i += 1
            options["prefixes"].append(argv[i])
        else:
            raise ReplyError(SYNTAX)
        i += 1
    return options


@command("client|tracking", arity=-3, flags=_FLAGS, group="connection", since="6.0.0")
def client_tracking(ctx, argv):
    """Controls server-assisted client-side caching for the connection."""
    options = _parse_options(ctx, argv)
    switch = argv[2].lower()
    if switch == b"off":
        tracker(ctx.engine).disable(ctx)
        return OK
    if switch != b"on":
        raise ReplyError(SYNTAX)
    state = ctx.tracking
    bcast, optin, optout = options["bcast"], options["optin"], options["optout"]
    if options["prefixes"] and not bcast:
        raise ReplyError("ERR PREFIX option requires BCAST mode to be enabled")
    if state is not None and state.bcast != bcast:
        raise ReplyError(_SWITCH_MODE % "BCAST mode on/off")
    if bcast and (optin or optout):
        raise ReplyError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise ReplyError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if state is not None and ((optin and state.optout) or (optout and state.optin)):
        raise ReplyError(_SWITCH_MODE % "OPTIN/OPTOUT mode")
    if bcast:
        _check_prefixes(state, options["prefixes"])
    tracker(ctx.engine).enable(ctx, options["redirect"], bcast, optin, optout,
                               options["noloop"], options["prefixes"])
    return OK


@command("client|caching", arity=3, flags=_FLAGS, group="connection", since="6.0.0")
def client_caching(ctx, argv):
    """Instructs the server whether to track the keys in the next request."""
    state = ctx.tracking
    if state is None:
        raise ReplyError("ERR CLIENT CACHING can be called only when the client is in "
                         "tracking mode with OPTIN or OPTOUT mode enabled")
    word = argv[2].lower()
    if word == b"yes":
        if not state.optin:
            raise ReplyError("ERR CLIENT CACHING YES is only valid when tracking is enabled "
                             "in OPTIN mode.")
    elif word == b"no":
        if not state.optout:
            raise ReplyError("ERR CLIENT CACHING NO is only valid when tracking is enabled "
                             "in OPTOUT mode.")
    else:
        raise ReplyError(SYNTAX)
    state.caching = True
    return OK


@command("client|getredir", arity=2, flags=_FLAGS, group="connection", since="6.0.0")
def client_getredir(ctx, argv):
    """Returns the client ID to which the connection's tracking notifications are
    redirected."""
    state = ctx.tracking
    return state.redirect if state is not None else -1


@command("client|trackinginfo", arity=2, flags=_FLAGS, group="connection", since="6.2.0")
def client_trackinginfo(ctx, argv):
    """Returns information about server-assisted client-side caching for the connection."""
    state = ctx.tracking
    if state is None:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if state.bcast:
        flags.append(b"bcast")
    if state.optin:
        flags.append(b"optin")
        if state.caching:
            flags.append(b"caching-yes")
    if state.optout:
        flags.append(b"optout")
        if state.caching:
            flags.append(b"caching-no")
    if state.noloop:
        flags.append(b"noloop")
    if state.broken_redirect:
        flags.append(b"broken_redirect")
    return {b"flags": SetReply(flags), b"redirect": state.redirect,
            b"prefixes": sorted(state.prefixes)}
