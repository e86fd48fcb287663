"""pydatahike's conversion rules from Python data to EDN text, used for configs and for the
pydatahike-compatible API (Database, the low-level functions):

  - dict keys always become keywords ("name" -> :name, ":db/id" -> :db/id);
  - a str value starting with ":" is a keyword, one starting with "\\:" the string after the
    backslash, one made with edn.string() a string whatever it starts with, any other a string;
  - other values print as datahike.edn prints them (numbers, None, bools, lists, sets, uuids,
    datetimes, Keyword/Symbol objects, ...).

The C++ extension's printer implements these rules next to datahike.edn's (PrintRules in
src/native/edn_values.h).
"""

from __future__ import annotations

from typing import Any

from . import _datahike
from .edn import STRING_MARKER, Keyword, _escape


def key_to_keyword(key: Any) -> str:
    if isinstance(key, Keyword):
        return str(key)
    if isinstance(key, str):
        if key.startswith(STRING_MARKER):
            return _escape(key[len(STRING_MARKER):])
        return key if key.startswith(":") else ":" + key
    return value_to_edn(key)


def value_to_edn(v: Any) -> str:
    """The EDN text of v by the rules above (printed by the C++ extension)."""
    return _datahike.dumps(v, True)


dict_to_edn = python_to_edn = value_to_edn


def config_edn(config: Any = None, **kwargs: Any) -> str:
    """A config as EDN text: an EDN str as is, a dict by the rules above, keyword arguments as the
    :store map (pydatahike's Database(backend=":memory", id="x")); None for Datahike's default
    (a fresh in-memory store)."""
    if isinstance(config, str):
        if kwargs:
            raise TypeError("give the config as a string or as keyword arguments, not both")
        return config
    if isinstance(config, dict):
        if kwargs:
            raise TypeError("give the config as a dict or as keyword arguments, not both")
        return dict_to_edn(config)
    if config is None:
        return dict_to_edn({"store": kwargs}) if kwargs else "{}"
    raise TypeError(f"a config is a dict or an EDN string, not {type(config).__name__}")
