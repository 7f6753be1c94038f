"""Config: the server's configuration values, CONFIG SET's rules and CONFIG GET's matching.

One table (:data:`PARAMS`, in :mod:`ember.server.config_table`) serves the command
line, redis.conf files, CONFIG GET/SET and CONFIG REWRITE. Values are kept parsed (ints,
bools, lists; the special ones are listed in :mod:`ember.server.config_special`); each
parameter is an attribute of :class:`Config` with ``-`` turned into ``_``
(``config.maxmemory_policy``), so hot paths read a plain attribute. Parameters whose
feature ember does not have yet are accepted and stored, for the code that will read them.

Notes on stored forms: memory sizes are bytes; ``maxmemory-clients`` given as a
percentage is stored negative (``10%`` -> -10) as Redis stores it; flag enums
(``shutdown-on-sigint``) are their normalised text ("save now").
"""

import fnmatch
import logging

from ember.server.config_special import DirParam
from ember.server.config_table import LOGLEVELS, MAX_HZ, MIN_HZ, PARAMS, PARAMS_BY_NAME
from ember.server.config_types import (
    MEMORY_UNITS,
    ConfigError,
    Param,
    parse_bool,
    parse_memory,
)

__all__ = ["Config", "ConfigError", "PARAMS", "PARAMS_BY_NAME", "MEMORY_UNITS", "Param",
           "parse_bool", "parse_memory", "LOGLEVELS"]

_GLOB_CHARS = frozenset("[*?")


try:
    from ember.storage.glob import glob_match as _redis_glob
except ImportError:  # pragma: no cover - the shared matcher is not there yet
    _redis_glob = None


def glob_match(pattern: str, name: str) -> bool:
    """Case-insensitive glob match of a parameter name (Redis's stringmatch nocase)."""
    if _redis_glob is not None:
        return _redis_glob(pattern.encode("utf-8", "surrogateescape"),
                           name.encode("utf-8", "surrogateescape"), nocase=True)
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


def _clamp_hz(config) -> None:
    """hz is a hint: out-of-range values are capped to 1..500, as Redis does."""
    if config.hz < MIN_HZ or config.hz > MAX_HZ:
        config._store(PARAMS_BY_NAME["hz"], min(max(config.hz, MIN_HZ), MAX_HZ))


def _apply_loglevel(config) -> None:
    """Make a new loglevel take effect at once."""
    from ember.server.logsetup import apply_level

    apply_level(config.loglevel)


class Config:
    """Current configuration values; each parameter is also an attribute."""

    def __init__(self):
        self.path = None   # the config file given on the command line, for REWRITE
        # param name -> callable(config) that makes a CONFIG SET change take effect;
        # it raises ConfigError(reason) to refuse it. The server layer adds its own
        # (port and bind re-binding) with add_applier.
        self.appliers = {"hz": _clamp_hz, "loglevel": _apply_loglevel}
        self.rename_commands = []   # (old, new) pairs from rename-command lines
        self.user_directives = []   # ACL "user" lines, for the ACL code to read
        self.explicit = set()       # parameters a file or the command line set
        self._save_loaded = False
        for param in PARAMS:
            self._store(param, param.initial())

    def _store(self, param: Param, value) -> None:
        setattr(self, param.attr, value)

    def value(self, param: Param):
        """The stored value of ``param`` (its attribute is the one source of truth)."""
        return getattr(self, param.attr)

    @property
    def values(self) -> dict:
        """Every parameter's current value, by primary name."""
        return {param.name: getattr(self, param.attr) for param in PARAMS}

    # ---- lookup ------------------------------------------------------------------------

    def param(self, name: str) -> Param:
        """The parameter called ``name`` (or an alias), KeyError if there is none."""
        return PARAMS_BY_NAME[name.lower()]

    def has(self, name: str) -> bool:
        """True when ``name`` is a parameter or an alias."""
        return name.lower() in PARAMS_BY_NAME

    def get(self, name: str):
        """The parsed value of ``name``."""
        return self.value(self.param(name))

    def formatted(self, name: str) -> str:
        """The value of ``name`` as CONFIG GET prints it."""
        param = self.param(name)
        return param.format(self.value(param))

    def add_applier(self, name: str, applier) -> None:
        """Run ``applier(config)`` after CONFIG SET changes ``name``."""
        self.appliers[self.param(name).name] = applier

    # ---- setting -----------------------------------------------------------------------

    def set(self, name: str, args: list, loading: bool = False) -> None:
        """Parse and store one directive (``args`` are its argument strings)."""
        param = self.param(name)
        if not param.multi_arg and len(args) != 1:
            raise ConfigError("wrong number of arguments")
        append = False
        if loading:
            self.explicit.add(param.name)
            if param.name == "save":
                append, self._save_loaded = self._save_loaded, True
        self._store(param, param.parse(list(args), self.value(param), append))

    def finish_loading(self) -> None:
        """Checks Redis makes once the whole configuration is read."""
        _clamp_hz(self)
        if self.logfile:
            try:
                with open(self.logfile, "a"):
                    pass
            except OSError as exc:
                raise ConfigError(f"Can't open the log file: {exc.strerror}")

    def set_many(self, pairs: list, protected_ok: bool = False):
        """CONFIG SET: apply (name, value) pairs all or nothing.

        Returns None on success, else Redis's whole error reply text ("ERR ...").
        """
        try:
            self._set_many(pairs, protected_ok)
        except ConfigError as exc:
            return str(exc)
        return None

    def _set_many(self, pairs: list, protected_ok: bool) -> None:
        chosen = []
        for name, value in pairs:
            param = PARAMS_BY_NAME.get(name.lower())
            if param is None:
                raise ConfigError("ERR Unknown option or number of arguments for CONFIG SET "
                                  f"- '{name}'")
            if param.immutable:
                raise _set_failed(name, "can't set immutable config")
            if param.protected and not protected_ok:
                raise _set_failed(name, "can't set protected config")
            key = self._registered_name(name)
            if any(seen == key for seen, _, _ in chosen):
                raise _set_failed(name, "duplicate parameter")
            chosen.append((key, param, value))
        old = {param.name: self.value(param) for _, param, _ in chosen}
        appliers = []
        for key, param, value in chosen:
            args = (value.split(" ") if value else []) if param.multi_arg else [value]
            try:
                new = param.parse(args, self.value(param))
            except ConfigError as exc:
                self._restore(old)
                raise _set_failed(key, str(exc))
            if new != self.value(param):
                self._store(param, new)
                applier = self.appliers.get(param.name)
                if applier is not None and all(a is not applier for _, a in appliers):
                    appliers.append((key, applier))
        for key, applier in appliers:
            try:
                applier(self)
            except ConfigError as exc:
                self._restore(old)
                for _, undo in appliers:
                    try:
                        undo(self)
                    except ConfigError:
                        logging.getLogger("ember").warning(
                            "Failed applying restored failed CONFIG SET command")
                raise _set_failed(key, str(exc))

    def _restore(self, old: dict) -> None:
        for name, value in old.items():
            param = PARAMS_BY_NAME[name]
            if isinstance(param, DirParam):
                try:
                    param.parse_one(value)
                except ConfigError:
                    pass
            self._store(param, value)

    @staticmethod
    def _registered_name(name: str) -> str:
        """The table entry ``name`` hits: an alias counts apart from its primary name."""
        return name.lower()

    # ---- CONFIG REWRITE -----------------------------------------------------------------

    def rewrite_file(self) -> None:
        """Write the current values into the config file (OSError if that fails)."""
        from ember.server.rewrite import rewrite_config

        rewrite_config(self.path, PARAMS, self.values, PARAMS_BY_NAME.get)

    # ---- CONFIG GET --------------------------------------------------------------------

    def matching(self, patterns: list) -> dict:
        """CONFIG GET: name -> printed value for every parameter a pattern matches."""
        found = {}
        seen = set()
        for pattern in patterns:
            if not _GLOB_CHARS.intersection(pattern):
                param = PARAMS_BY_NAME.get(pattern.lower())
                if param is not None and pattern.lower() not in seen:
                    seen.add(pattern.lower())
                    found[pattern] = param.format(self.value(param))
                continue
            for name, param in PARAMS_BY_NAME.items():
                if param.hidden or name in seen:
                    continue
                if glob_match(pattern, name):
                    seen.add(name)
                    found[name] = param.format(self.value(param))
        return found


def _set_failed(name: str, reason: str) -> ConfigError:
    return ConfigError(f"ERR CONFIG SET failed (possibly related to argument '{name}') - "
                       f"{reason}")
