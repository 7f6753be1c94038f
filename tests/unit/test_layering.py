"""Imports point one way: protocol, storage <- scripting, commands <- persistence, replication
<- server.

Every module under ember/ is parsed with ``ast`` (not imported), so an import inside a
function, a relative import or ``importlib.import_module("ember.x")`` counts too.
"""

import ast
from pathlib import Path

import pytest

EMBER = Path(__file__).resolve().parents[2] / "ember"

# layer -> module prefixes it must never import
FORBIDDEN = {
    "protocol": ["ember.commands", "ember.persistence", "ember.replication", "ember.server",
                 "ember.scripting", "asyncio", "uvloop"],
    "storage": ["ember.commands", "ember.persistence", "ember.replication", "ember.server",
                "ember.scripting", "asyncio", "uvloop"],
    # The Lua runtime knows RESP values and errors, never the command table or the network.
    "scripting": ["ember.commands", "ember.server", "ember.persistence", "ember.replication",
                  "asyncio", "uvloop"],
    "commands": ["ember.server", "ember.persistence", "ember.replication", "asyncio",
                 "uvloop"],
    # Replication is sans-IO like commands; the server layer does its sockets and children.
    "replication": ["ember.server", "asyncio", "uvloop"],
}


def module_name(path: Path) -> str:
    """ember/commands/strings.py -> ember.commands.strings (packages: their own name)."""
    parts = list(path.relative_to(EMBER.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set:
    """Every module name that ``source`` (the text of ``module``) imports."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            found.add(node.args[0].value)
    return found


def violations(layer: str, module: str, imported: set) -> list:
    """The imports of ``module`` (in ``layer``) that go against the direction."""
    bad = []
    for name in sorted(imported):
        for prefix in FORBIDDEN[layer]:
            if name == prefix or name.startswith(prefix + "."):
                bad.append(f"{module} imports {name}")
    return bad


def modules_of(layer: str) -> list:
    return sorted((EMBER / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_import_direction(layer):
    paths = modules_of(layer)
    assert paths, f"no modules found under ember/{layer}"
    bad = []
    for path in paths:
        name = module_name(path)
        imported = imports_of(path.read_text(), name, path.name == "__init__.py")
        bad += violations(layer, name, imported)
    assert not bad, "\n".join(bad)


def test_every_module_parses():
    for path in EMBER.rglob("*.py"):
        ast.parse(path.read_text(), str(path))


# ---- the checker itself catches what it must --------------------------------------------


@pytest.mark.parametrize("source, module, layer", [
    ("import asyncio", "ember.protocol.parser", "protocol"),
    ("from ember.server.config import Config", "ember.storage.keyspace", "storage"),
    ("from ..server import app", "ember.commands.strings", "commands"),
    ("from .. import server", "ember.commands.strings", "commands"),
    ("def f():\n    import uvloop", "ember.commands.keys", "commands"),
    ("from ember.persistence import rdb", "ember.protocol.encoder", "protocol"),
    ("import ember.replication.backlog", "ember.storage.expiry", "storage"),
    ("import importlib\nimportlib.import_module('ember.server.app')", "ember.commands.x",
     "commands"),
    ("from ember import commands", "ember.storage.types.hash", "storage"),
])
def test_checker_flags_upward_imports(source, module, layer):
    assert violations(layer, module, imports_of(source, module))


@pytest.mark.parametrize("source, module, layer", [
    ("from ember.protocol.replies import OK", "ember.commands.strings", "commands"),
    ("from ember.errors import ReplyError", "ember.storage.keyspace", "storage"),
    ("from .numbers import parse_int", "ember.protocol.parser", "protocol"),
    ("import time", "ember.commands.engine", "commands"),
    ("from ember.storage.keyspace import Database", "ember.commands.engine", "commands"),
])
def test_checker_allows_downward_imports(source, module, layer):
    assert not violations(layer, module, imports_of(source, module))
