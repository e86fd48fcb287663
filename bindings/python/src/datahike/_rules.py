"""pydatahike's conversion rules from Python data to EDN text, used for configs and for the
pydatahike-compatible API (Database, the low-level functions):

  - dict keys always become keywords ("name" -> :name, ":db/id" -> :db/id);
  - a str value starting with ":" is a keyword, one starting with "\\:" the string after the
    backslash, one made with edn.string() a string whatever it starts with, any other a string;
  - other values print as datahike.edn prints them (numbers, None, bools, lists, sets, uuids,
    datetimes, Keyword/Symbol objects, ...).
"""

from __future__ import annotations

import math
from typing import Any

from .edn import STRING_MARKER, EDNType, Keyword, Symbol, _escape, dumps


def key_to_keyword(key: Any) -> str:
    if isinstance(key, Keyword):
        return str(key)
    if isinstance(key, str):
        if key.startswith(STRING_MARKER):
            return _escape(key[len(STRING_MARKER):])
        return key if key.startswith(":") else ":" + key
    return value_to_edn(key)


def value_to_edn(v: Any) -> str:
    if isinstance(v, Keyword):
        return str(v)
    if isinstance(v, (EDNType, Symbol)):
        return v.to_edn()
    if isinstance(v, str):
        if v.startswith(STRING_MARKER):
            return _escape(v[len(STRING_MARKER):])
        if v.startswith("\\:"):
            return _escape(v[1:])
        if v.startswith(":"):
            return v
        return _escape(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and math.isfinite(v):
        return str(v)
    if v is None:
        return "nil"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(value_to_edn(x) for x in v) + "]"
    if isinstance(v, (set, frozenset)):
        return "#{" + " ".join(value_to_edn(x) for x in v) + "}"
    if isinstance(v, dict):
        return dict_to_edn(v)
    return dumps(v)


def dict_to_edn(d: dict) -> str:
    return "{" + " ".join(f"{key_to_keyword(k)} {value_to_edn(x)}" for k, x in d.items()) + "}"


def python_to_edn(data: Any) -> str:
    return value_to_edn(data)


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
