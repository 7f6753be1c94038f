"""Command handlers, one module per command group, and the command table they fill."""

import importlib

# Every module that declares commands; importing them fills the command table.
COMMAND_MODULES = (
    "connection",
    "strings",
    "bitmaps",
    "keys",
    "expire",
    "introspection",
    "config",
    "shutdown",
    "info", "client", "server", "debug",
    "hashes", "hash_ttl",
    "sets", "sort",
    "lists", "lists_blocking",
    "zsets", "zsets_ranges", "zsets_setops", "zsets_blocking",
    "transactions",
    "pubsub", "client_tracking",
    "scripting", "functions",
    "geo",
    "streams", "streams_read", "streams_groups", "streams_claim", "streams_info",
    "hyperloglog",
    "memory",
)


def load_all() -> None:
    """Import every command module so that the table is complete."""
    for name in COMMAND_MODULES:
        importlib.import_module(f"ember.commands.{name}")
    importlib.import_module("ember.commands.runs").install()
