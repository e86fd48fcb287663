"""pydatahike's high-level API: Database (a config with methods), DatabaseSnapshot (a time-travel
view of one) and the database(...) context manager, plus its Python-to-EDN conversion functions.

Results have pydatahike's shapes (see datahike.lowlevel.plain); Database.q unwraps sets to lists.
"""

from __future__ import annotations

import json as _json
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Union

from . import lowlevel as _low
from ._rules import config_edn
from ._rules import dict_to_edn as _dict_to_edn
from ._rules import key_to_keyword as _key_to_keyword
from ._rules import python_to_edn as _python_to_edn
from ._rules import value_to_edn as _value_to_edn
from .edn import EDNType, Keyword

__all__ = ["Database", "DatabaseSnapshot", "database", "EDNType"]

OutputFormat = str


def _json_default(v: Any) -> Any:
    if isinstance(v, EDNType):
        return v.to_edn()
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    return str(v)


def _query_inputs(args: Any) -> List[Any]:
    out = []
    for arg in args:
        if isinstance(arg, Database):
            out.append(("db", arg.config))
        elif isinstance(arg, DatabaseSnapshot):
            out.append((arg._input_format, arg._config))
        elif isinstance(arg, tuple):
            out.append(arg)
        else:
            out.append(("param", arg if isinstance(arg, str) else _value_to_edn(arg)))
    return out


def _unwrap(result: Any, unwrap: bool) -> Any:
    if unwrap and isinstance(result, list) and len(result) == 2 and result[0] == "!set":
        return result[1]
    return result


def _pattern(p: Any) -> str:
    return p if isinstance(p, str) else _value_to_edn(p)


class Database:
    """A database named by its config (dict, EDN text, or keyword arguments for the :store)."""

    def __init__(self, config: Union[str, Dict[str, Any], None] = None, **kwargs: Any):
        if config is None and not kwargs:
            raise ValueError("Must provide config as dict, EDN string, or keyword arguments")
        self._config = config_edn(config, **kwargs)

    @property
    def config(self) -> str:
        """The config as EDN text (what the low-level functions take)."""
        return self._config

    @staticmethod
    def memory(id: str) -> "Database":
        return Database({"store": {"backend": ":memory", "id": id}})

    @staticmethod
    def file(path: str) -> "Database":
        return Database({"store": {"backend": ":file", "path": path}})

    def create(self) -> None:
        _low.create_database(self._config)

    def delete(self) -> None:
        _low.delete_database(self._config)

    def exists(self) -> bool:
        return _low.database_exists(self._config)

    def transact(self, data: Any, input_format: str = "json") -> Any:
        """Transacts Python data (converted by pydatahike's rules) or JSON/EDN text."""
        if isinstance(data, str):
            return _low.transact(self._config, data, input_format=input_format)
        if not isinstance(data, (list, dict)):
            raise TypeError(f"Cannot transact type: {type(data)}")
        if input_format not in ("json", "edn"):
            raise ValueError(f"Unknown format: {input_format}. Expected 'json' or 'edn'")
        if isinstance(data, dict):
            data = [data]
        return _low.transact(self._config, _python_to_edn(data), input_format="edn")

    def q(self, query: str, *args: Any, inputs: Optional[List[Any]] = None,
          output_format: OutputFormat = "cbor", unwrap: bool = True) -> Any:
        if inputs is None:
            inputs = [("db", self._config)] + _query_inputs(args)
        return _unwrap(_low.q(_pattern(query), inputs, output_format=output_format), unwrap)

    def pull(self, pattern: Any, eid: Any, input_format: str = "db",
             output_format: OutputFormat = "cbor") -> Any:
        return _low.pull(self._config, _pattern(pattern), eid, input_format=input_format,
                         output_format=output_format)

    def pull_many(self, pattern: Any, eids: List[Any], input_format: str = "db",
                  output_format: OutputFormat = "cbor") -> Any:
        return _low.pull_many(self._config, _pattern(pattern), eids, input_format=input_format,
                              output_format=output_format)

    def entity(self, eid: Any, input_format: str = "db",
               output_format: OutputFormat = "cbor") -> Any:
        return _low.entity(self._config, eid, input_format=input_format,
                           output_format=output_format)

    def schema(self, output_format: OutputFormat = "cbor") -> Any:
        return _low.schema(self._config, output_format=output_format)

    def reverse_schema(self, output_format: OutputFormat = "cbor") -> Any:
        return _low.reverse_schema(self._config, output_format=output_format)

    def metrics(self, output_format: OutputFormat = "cbor") -> Any:
        return _low.metrics(self._config, output_format=output_format)

    def datoms(self, index: str, components: Any = None, input_format: str = "db",
               output_format: OutputFormat = "cbor") -> Any:
        return _low.datoms(self._config, index, components, input_format=input_format,
                           output_format=output_format)

    def seek_datoms(self, index: str, components: Any = None, input_format: str = "db",
                    output_format: OutputFormat = "cbor") -> Any:
        return _low.seek_datoms(self._config, index, components, input_format=input_format,
                                output_format=output_format)

    def index_range(self, attrid: str, start: Any, end: Any, input_format: str = "db",
                    output_format: OutputFormat = "cbor") -> Any:
        return _low.index_range(self._config, attrid, start, end, input_format=input_format,
                                output_format=output_format)

    def gc_storage(self, *args: Any, **kwargs: Any) -> Any:
        return _low.gc_storage(self._config, *args, **kwargs)

    def as_of(self, timestamp_ms: int) -> "DatabaseSnapshot":
        """The database as of a Unix time in milliseconds."""
        return DatabaseSnapshot(self._config, f"asof:{timestamp_ms}")

    def since(self, timestamp_ms: int) -> "DatabaseSnapshot":
        return DatabaseSnapshot(self._config, f"since:{timestamp_ms}")

    @property
    def history(self) -> "DatabaseSnapshot":
        return DatabaseSnapshot(self._config, "history")

    # Branches and commits (Datahike's datahike.versioning).
    def branches(self, output_format: OutputFormat = "cbor") -> Any:
        return _low.branches(self._config, output_format=output_format)

    def branch(self, from_: str, new_branch: str) -> Any:
        return _low.branch(self._config, from_, new_branch)

    def delete_branch(self, branch: str) -> Any:
        return _low.delete_branch(self._config, branch)

    def commit_id(self) -> Any:
        return _low.commit_id(self._config)

    def parent_commit_ids(self) -> Any:
        return _low.parent_commit_ids(self._config)

    def merge_db(self, parents: Any, tx_data: Any, input_format: str = "json") -> Any:
        if isinstance(tx_data, (list, dict)) and input_format == "json":
            tx_data = _json.dumps(tx_data)
        return _low.merge_db(self._config, parents, tx_data, input_format=input_format)

    def branch_as_db(self, name: str) -> "DatabaseSnapshot":
        return DatabaseSnapshot(self._config, f"branch:{name.lstrip(':')}")

    def commit_as_db(self, commit_uuid: str) -> "DatabaseSnapshot":
        return DatabaseSnapshot(self._config, f"commit:{commit_uuid}")

    def __enter__(self) -> "Database":
        self.create()
        return self

    def __exit__(self, *exc: Any) -> bool:
        try:
            self.delete()
        except Exception:
            pass
        return False

    def __repr__(self) -> str:
        return f"Database({self._config})"


class DatabaseSnapshot:
    """A read-only view of a Database: input_format "history", "asof:<ms>" or "since:<ms>"."""

    def __init__(self, config: str, input_format: str):
        self._config = config
        self._input_format = input_format

    def q(self, query: str, *args: Any, output_format: OutputFormat = "cbor",
          unwrap: bool = True) -> Any:
        inputs = [(self._input_format, self._config)] + _query_inputs(args)
        return _unwrap(_low.q(_pattern(query), inputs, output_format=output_format), unwrap)

    def pull(self, pattern: Any, eid: Any, output_format: OutputFormat = "cbor") -> Any:
        return _low.pull(self._config, _pattern(pattern), eid, input_format=self._input_format,
                         output_format=output_format)

    def pull_many(self, pattern: Any, eids: List[Any], output_format: OutputFormat = "cbor") -> Any:
        return _low.pull_many(self._config, _pattern(pattern), eids,
                              input_format=self._input_format, output_format=output_format)

    def entity(self, eid: Any, output_format: OutputFormat = "cbor") -> Any:
        return _low.entity(self._config, eid, input_format=self._input_format,
                           output_format=output_format)

    def datoms(self, index: str, components: Any = None,
               output_format: OutputFormat = "cbor") -> Any:
        return _low.datoms(self._config, index, components, input_format=self._input_format,
                           output_format=output_format)

    def __repr__(self) -> str:
        return f"DatabaseSnapshot({self._input_format}, {self._config})"


@contextmanager
def database(config: Union[str, Dict[str, Any], None] = None, **kwargs: Any) -> Iterator[Database]:
    """Creates the database on entry, yields its Database, deletes it on exit."""
    if not config and not kwargs:
        raise ValueError("Must provide config")
    db = Database(config, **kwargs)
    db.create()
    try:
        yield db
    finally:
        try:
            db.delete()
        except Exception:
            pass
