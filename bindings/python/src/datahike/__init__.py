"""Datahike, a Datalog database, in Python: bindings over libdatahike's C ABI (no JVM).

    import datahike as d
    cfg = {"store": {"backend": ":memory", "id": "app"}}
    d.create_database(cfg)
    with d.connect(cfg) as conn:
        conn.transact([{"name": "Alice", "age": 30}])
        d.q("[:find ?n :where [?e :name ?n]]", conn.db())   # {("Alice",)}

It is also a drop-in for Datahike's own Python package (pydatahike): Database, DatabaseSnapshot,
database(...), the edn/kw helpers, and the low-level functions taking config strings. The functions
that exist in both APIs (q, transact, pull, datoms, schema, ...) tell the styles apart by their
first arguments: a Connection or Db is this package's style, a config string pydatahike's.
"""

from __future__ import annotations

from typing import Any, Callable

from . import _datahike, edn, lowlevel
from ._version import __version__
from .api import (Connection, Datom, Db, TxReport, connect, create_database, database_exists,
                  delete_database, empty_db, force_branch, version)
from .database import Database, DatabaseSnapshot, database
from .edn import (UUID, BigInt, Char, Edn, FrozenDict, Inst, Keyword, Keywords, List, Symbol, Tagged,
                  inst, keyword, kw, string, symbol, uuid)
from .errors import (ConflictError, DatahikeError, DatahikeException, InternalError, MisuseError,
                     NotFoundError, ParseError, QueryError, SchemaError, StorageError,
                     TransactionError, UnsupportedError)
from .lowlevel import gc_storage
from . import api as _api

__all__ = [
    "__version__", "version",
    # this package's API
    "connect", "Connection", "Db", "TxReport", "Datom", "create_database", "delete_database",
    "database_exists", "empty_db", "q", "transact", "db", "pull", "pull_many", "entity",
    "datoms", "seek_datoms", "rseek_datoms", "index_range", "schema", "reverse_schema",
    "metrics", "as_of", "since", "history", "db_with", "with_", "listen", "unlisten", "release",
    # values
    "edn", "Keyword", "Symbol", "Char", "BigInt", "List", "Tagged", "FrozenDict", "Edn",
    # errors
    "DatahikeError", "DatahikeException", "ParseError", "SchemaError", "TransactionError",
    "QueryError", "NotFoundError", "StorageError", "ConflictError", "MisuseError",
    "InternalError", "UnsupportedError",
    # pydatahike
    "Database", "DatabaseSnapshot", "database", "UUID", "Inst", "keyword", "symbol", "uuid",
    "inst", "string", "Keywords", "kw", "gc_storage", "branches", "branch", "delete_branch",
    "commit_id", "parent_commit_ids", "merge_db", "force_branch",
]


def _is_pydatahike_inputs(x: Any) -> bool:
    return (isinstance(x, list) and len(x) > 0 and all(
        isinstance(i, tuple) and len(i) == 2 and lowlevel.is_input_format(i[0]) for i in x))


def q(query: Any, *inputs: Any, **kwargs: Any) -> Any:
    """d.q(query, db, *inputs): query as EDN text or data; Db values bind to the $ sources, the
    other inputs to the remaining :in positions. pydatahike's q(query, [("db", cfg)],
    output_format=...) is accepted too."""
    if kwargs or (len(inputs) == 1 and _is_pydatahike_inputs(inputs[0])):
        return lowlevel.q(query, *inputs, **kwargs)
    return _datahike.q_values(query, inputs)


def _dispatch(name: str, doc: str, method: str = "") -> Callable[..., Any]:
    """A function in both styles: on a Connection or Db (its method `method`, by default `name`),
    or on a config string (pydatahike's low-level function `name`)."""
    low = getattr(lowlevel, name)

    def fn(target: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(target, (Db, Connection)):
            return getattr(target, method or name)(*args, **kwargs)
        return low(target, *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


transact = _dispatch("transact", "transact(conn, tx_data, tx_meta=None) -> TxReport; or "
                     "pydatahike's transact(config, tx_text, input_format='json').")
pull = _dispatch("pull", "pull(db, pattern, eid); or pydatahike's pull(config, selector, eid).")
pull_many = _dispatch("pull_many", "pull_many(db, pattern, eids); or pydatahike's form.")
entity = _dispatch("entity", "entity(db, eid) -> dict or None; or pydatahike's form.")
datoms = _dispatch("datoms", "datoms(db, index, *components) -> [Datom]; or pydatahike's form.")
seek_datoms = _dispatch("seek_datoms", "seek_datoms(db, index, *components); or pydatahike's.")
index_range = _dispatch("index_range", "index_range(db, attr, start, end); or pydatahike's.")
schema = _dispatch("schema", "schema(db) -> {attr: {...}}; or pydatahike's schema(config).")
reverse_schema = _dispatch("reverse_schema", "reverse_schema(db); or pydatahike's form.")
metrics = _dispatch("metrics", "metrics(db); or pydatahike's metrics(config).")


def rseek_datoms(db: Db, index: Any, *components: Any) -> Any:
    return db.rseek_datoms(index, *components)


def db(conn: Connection) -> Db:
    """The connection's latest database value."""
    return conn.db()


def as_of(db: Db, t: Any) -> Db:
    return db.as_of(t)


def since(db: Db, t: Any) -> Db:
    return db.since(t)


def history(db: Db) -> Db:
    return db.history()


def with_(db: Db, tx_data: Any, tx_meta: Any = None) -> TxReport:
    return db.with_(tx_data, tx_meta)


def db_with(db: Db, tx_data: Any) -> Db:
    return db.db_with(tx_data)


def listen(conn: Connection, callback: Callable[[TxReport], Any]) -> int:
    return conn.listen(callback)


def unlisten(conn: Connection, key: int) -> None:
    conn.unlisten(key)


def release(x: Any) -> None:
    """Closes a Connection or releases a Db."""
    x.release()


# Branches and commits (Datahike's datahike.versioning).
branches = _dispatch("branches", "branches(conn) -> frozenset of Keywords; or pydatahike's "
                     "branches(config, output_format='cbor').")
branch = _dispatch("branch", "branch(conn, from_, new_branch) (Datahike's branch!); or "
                   "pydatahike's branch(config, from_, new_branch).", method="create_branch")
delete_branch = _dispatch("delete_branch", "delete_branch(conn, name); or pydatahike's "
                          "delete_branch(config, name).")
commit_id = _dispatch("commit_id", "commit_id(db) -> uuid.UUID or None; or pydatahike's "
                      "commit_id(config, output_format='cbor').")
parent_commit_ids = _dispatch("parent_commit_ids", "parent_commit_ids(db) -> frozenset of "
                              "uuid.UUID; or pydatahike's form on a config.")
merge_db = _dispatch("merge_db", "merge_db(conn, parents, tx_data) -> TxReport (Datahike's "
                     "merge!); or pydatahike's merge_db(config, parents, tx_data, "
                     "input_format='json') returning the merge commit's id.", method="merge")
