"""The Pythonic API: connections, database values and the reading functions, over the C ABI.

Arguments that are data (tx-data, query, pull pattern, entity ids, datom components) are Python
values printed as EDN by datahike.edn, or a str of raw EDN text. Query inputs (d.q's *inputs) are
always values: a str there is a string. Results are Python values read from the engine's EDN.
Printing and reading run in the extension (format _VALUES), which also raises the typed errors
of datahike.errors.
"""

from __future__ import annotations

import datetime as _dt
import threading
import uuid as _uuid
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Union

from . import _datahike
from ._rules import config_edn
from .edn import Edn, Keyword, format_inst
from .errors import ParseError

__all__ = [
    "Connection", "Db", "TxReport", "Datom", "connect", "create_database", "delete_database",
    "database_exists", "empty_db", "version", "force_branch",
]

Config = Union[str, Dict[str, Any], None]
# Result formats of the extension's calls: the ABI's EDN or JSON text, or Python values.
_EDN, _JSON, _VALUES = 0, 1, _datahike.VALUES


def _text(x: Any) -> str:
    """EDN text for a data argument: a str is raw EDN text, anything else is printed."""
    s = str.__str__(x) if type(x) in (str, Edn) else _datahike.dumps(x)
    if "\0" in s:
        raise ParseError("EDN text must not contain NUL characters", Keyword("parse/error"))
    return s


def _time_point(t: Any) -> str:
    if isinstance(t, bool):
        raise TypeError("a time point is a tx id (int), a datetime or EDN text")
    if isinstance(t, int):
        return str(int(t))
    if isinstance(t, (_dt.datetime, _dt.date)):
        return format_inst(t)
    if isinstance(t, str):
        return _text(t)
    raise TypeError(f"a time point is a tx id (int), a datetime or EDN text, not {type(t).__name__}")


class Datom(NamedTuple):
    """One datom of an index or a tx report."""

    e: int
    a: Keyword
    v: Any
    tx: int
    added: bool = True


def _datoms(rows: Any) -> List[Datom]:
    return [Datom(*row) for row in rows]


class TxReport(dict):
    """A transaction report: a dict with "db-before" and "db-after" (Db values), "tx-data" (a list
    of Datom), "tempids" (tempid -> entity id, with :db/current-tx) and "tx-meta". The same
    entries are attributes: db_before, db_after, tx_data, tempids, tx_meta."""

    @property
    def db_before(self) -> Optional["Db"]:
        return self.get("db-before")

    @property
    def db_after(self) -> Optional["Db"]:
        return self.get("db-after")

    @property
    def tx_data(self) -> List[Datom]:
        return self["tx-data"]

    @property
    def tempids(self) -> Dict[Any, int]:
        return self["tempids"]

    @property
    def tx_meta(self) -> Any:
        return self.get("tx-meta")


def _report(r: Dict[Keyword, Any], before: Optional["Db"], after: Optional["Db"]) -> TxReport:
    return TxReport({
        "db-before": before,
        "db-after": after,
        "tx-data": _datoms(r.get(Keyword("tx-data"), [])),
        "tempids": r.get(Keyword("tempids"), {}),
        "tx-meta": r.get(Keyword("tx-meta")),
    })


class Db:
    """An immutable database value. Stays valid after its connection closes; release() (or the
    garbage collector, or a with block) frees it early. Thread-safe."""

    __slots__ = ("_h", "__weakref__")

    def __init__(self, handle: Any):
        self._h = handle

    # -- lifecycle
    def release(self) -> None:
        """Frees the value; any later use raises MisuseError."""
        self._h.release()

    close = release

    @property
    def released(self) -> bool:
        return self._h.released

    def __enter__(self) -> "Db":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def __repr__(self) -> str:
        return "<datahike.Db released>" if self._h.released else "<datahike.Db>"

    # -- views
    def as_of(self, t: Any) -> "Db":
        """The value as of time point t: a tx id, a datetime or EDN text (#inst "...")."""
        return Db(self._h.as_of(_time_point(t)))

    def since(self, t: Any) -> "Db":
        return Db(self._h.since(_time_point(t)))

    def history(self) -> "Db":
        return Db(self._h.history())

    def copy(self) -> "Db":
        """A second handle to the same value, released independently."""
        return Db(self._h.copy())

    def with_(self, tx_data: Any, tx_meta: Any = None) -> TxReport:
        """Datahike's with: tx_data applied to this value; the report's "db-after" is the result."""
        text = _tx_text(tx_data, tx_meta)
        after, report = self._h.with_(text, _VALUES)
        return _report(report, self, Db(after))

    def db_with(self, tx_data: Any) -> "Db":
        return self.with_(tx_data)["db-after"]

    # -- reading
    def q(self, query: Any, *inputs: Any) -> Any:
        return q(query, self, *inputs)

    def pull(self, pattern: Any, eid: Any) -> Any:
        return self._h.pull(_text(pattern), _text(eid), _VALUES)

    def pull_many(self, pattern: Any, eids: Any) -> List[Any]:
        return self._h.pull_many(_text(pattern), _text(eids), _VALUES)

    def entity(self, eid: Any) -> Optional[Dict[Keyword, Any]]:
        return self._h.entity(_text(eid), _VALUES)

    def _datoms(self, which: str, index: Any, components: Sequence[Any]) -> List[Datom]:
        comps = None
        if len(components) == 1 and type(components[0]) is str and components[0][:1] == "[":
            comps = components[0]  # raw EDN vector
        elif components:
            comps = _datahike.dumps(list(components))
        return _datoms(self._h.datoms(which, _index(index), comps, _VALUES))

    def datoms(self, index: Any, *components: Any) -> List[Datom]:
        """Datoms of index (:eavt, :aevt, :avet or "eavt"...) matching the leading components."""
        return self._datoms("datoms", index, components)

    def seek_datoms(self, index: Any, *components: Any) -> List[Datom]:
        return self._datoms("seek", index, components)

    def rseek_datoms(self, index: Any, *components: Any) -> List[Datom]:
        return self._datoms("rseek", index, components)

    def index_range(self, attr: Any, start: Any = None, end: Any = None) -> List[Datom]:
        a = _index(attr)
        s = None if start is None else _datahike.dumps(start)
        e = None if end is None else _datahike.dumps(end)
        return _datoms(self._h.index_range(a, s, e, _VALUES))

    def schema(self) -> Dict[Keyword, Any]:
        return self._h.schema(_VALUES)

    def reverse_schema(self) -> Dict[Keyword, Any]:
        return self._h.reverse_schema(_VALUES)

    def metrics(self) -> Dict[Keyword, Any]:
        return self._h.metrics(_VALUES)

    def commit_id(self) -> Optional[_uuid.UUID]:
        """The commit id of this value, or None when it is not a commit (a view, a with_ result,
        an empty_db value)."""
        return self._h.commit_id(_VALUES)

    def parent_commit_ids(self) -> Optional[frozenset]:
        """The parent commit ids of this value's commit (two or more for a merge), or None."""
        ids = self._h.parent_commit_ids(_VALUES)
        return None if ids is None else frozenset(ids)


def branch_edn(name: Any) -> str:
    """A branch name as EDN: a Keyword, or a str with or without the colon ("feature")."""
    if isinstance(name, Keyword):
        return str(name)
    if isinstance(name, str) and name and "\0" not in name:
        return name if name.startswith(":") else ":" + name
    raise TypeError(f"a branch name is a Keyword or a non-empty str, not {name!r}")


def commit_edn(commit: Any) -> str:
    """A commit id as EDN: a uuid.UUID or its text."""
    if isinstance(commit, str) and not isinstance(commit, Keyword):
        try:
            commit = _uuid.UUID(commit)
        except ValueError:
            raise ValueError(f"a commit id is a uuid, not {commit!r}") from None
    if isinstance(commit, _uuid.UUID):
        return f'#uuid "{commit}"'
    raise TypeError(f"a commit id is a uuid.UUID or its text, not {type(commit).__name__}")


def ref_edn(ref: Any) -> str:
    """A branch or a commit as EDN: a uuid.UUID or uuid text is a commit, anything else a
    branch name."""
    if isinstance(ref, _uuid.UUID):
        return commit_edn(ref)
    if isinstance(ref, str) and not isinstance(ref, Keyword):
        try:
            return commit_edn(_uuid.UUID(ref))
        except ValueError:
            pass
    return branch_edn(ref)


def parents_edn(parents: Any) -> str:
    if isinstance(parents, (str, Keyword, _uuid.UUID)):
        parents = [parents]
    return "[" + " ".join(ref_edn(p) for p in parents) + "]"


def force_branch(db: Db, branch: Any, parents: Any) -> None:
    """Datahike's force-branch!: points branch (created if needed) at a new commit of db (a
    current value, e.g. a with_ result), with parents (branch names and commit ids)."""
    db._h.force_branch(branch_edn(branch), parents_edn(parents))


def _index(x: Any) -> str:
    if isinstance(x, Keyword):
        return str(x)
    if isinstance(x, str):
        return x if x.startswith(":") else ":" + x
    raise TypeError(f"an index or attribute is a Keyword or str, not {type(x).__name__}")


def _tx_text(tx_data: Any, tx_meta: Any) -> str:
    if tx_meta is None:
        return _text(tx_data)
    data = Edn(_text(tx_data))
    return _datahike.dumps({Keyword("tx-data"): data, Keyword("tx-meta"): tx_meta})


class Connection:
    """A connection to one branch (the config's :branch, :db by default) of a database. Use it in
    a with block, or close() it. Thread-safe."""

    def __init__(self, config: Config = None, **kwargs: Any):
        self._config = config_edn(config, **kwargs)
        self._h = _datahike.Conn.connect(self._config)
        self._listeners: Dict[int, Callable] = {}
        self._lock = threading.Lock()

    @property
    def config(self) -> str:
        return self._config

    def close(self) -> None:
        """Closes the connection and removes its listeners; idempotent. Db values stay valid."""
        self._h.release()
        self._listeners.clear()

    release = close

    @property
    def closed(self) -> bool:
        return self._h.released

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<datahike.Connection {self._config}{' closed' if self.closed else ''}>"

    def db(self) -> Db:
        """The latest database value."""
        return Db(self._h.db())

    def transact(self, tx_data: Any, tx_meta: Any = None) -> TxReport:
        """Transacts tx_data (a list of entity maps and [:db/add ...] forms, or EDN text) and
        returns the report. "db-before" and "db-after" are the database values just before and
        after the transaction."""
        report, before, after = self._h.transact_dbs(_tx_text(tx_data, tx_meta), _VALUES)
        return _report(report, Db(before), Db(after))

    def listen(self, callback: Callable[[TxReport], Any]) -> int:
        """Calls callback(report) after every later transaction on the database (on the
        transacting thread); returns a key for unlisten. The report's "db-before" and "db-after"
        are the transaction's values. The callback must not transact on the same database."""

        def on_report(report: Dict[Keyword, Any], before: Any, after: Any) -> None:
            callback(_report(report, Db(before), Db(after)))

        key = self._h.listen(on_report, _VALUES, True)
        self._listeners[key] = callback
        return key

    def unlisten(self, key: int) -> None:
        self._h.unlisten(int(key))
        self._listeners.pop(key, None)

    # ---- branches and commits (Datahike's datahike.versioning)

    def branches(self) -> frozenset:
        """The database's branch names, Keywords (:db among them)."""
        return frozenset(self._h.branches(_VALUES))

    def create_branch(self, from_: Any, new_branch: Any) -> None:
        """Datahike's branch!: a new branch whose head is from_, a branch name or a commit id
        (uuid.UUID or its text). ConflictError when new_branch exists."""
        self._h.branch(ref_edn(from_), branch_edn(new_branch))

    def delete_branch(self, branch: Any) -> None:
        """Datahike's delete-branch! (not :db); its commits stay readable by id."""
        self._h.delete_branch(branch_edn(branch))

    def merge(self, parents: Any, tx_data: Any, tx_meta: Any = None) -> TxReport:
        """Datahike's merge!: transacts tx_data on this branch as one commit whose parents are
        the branch's head and parents (branch names and commit ids)."""
        text = _tx_text(tx_data, tx_meta)
        before = self.db()
        report = self._h.merge(parents_edn(parents), text, _VALUES, True)
        return _report(report, before, self.db())

    def branch_as_db(self, branch: Any) -> Db:
        """The head of a branch as a read-only value."""
        return Db(self._h.branch_db(branch_edn(branch)))

    def commit_as_db(self, commit: Any) -> Db:
        """Any commit, by id, as a read-only value."""
        return Db(self._h.commit_db(commit_edn(commit)))

    def branch_history(self, branch: Any = None) -> List[_uuid.UUID]:
        """The commit ids reachable from a branch's head (this connection's branch by default),
        the head first."""
        name = self.branch if branch is None else branch
        return self._h.branch_history(branch_edn(name), _VALUES)

    @property
    def branch(self) -> Keyword:
        """This connection's branch."""
        return getattr(self, "_branch", None) or self._read_branch()

    def _read_branch(self) -> Keyword:
        cfg = _datahike.loads(self._config) if self._config.strip() else {}
        b = cfg.get(Keyword("branch")) if isinstance(cfg, dict) else None
        self._branch = b if isinstance(b, Keyword) else Keyword("db")
        return self._branch


def connect(config: Config = None, **kwargs: Any) -> Connection:
    """Connects to an existing database: config as a dict ({"store": {"backend": ":memory",
    "id": "app"}}) or EDN text. NotFoundError when it does not exist."""
    return Connection(config, **kwargs)


def create_database(config: Config = None, **kwargs: Any) -> None:
    """Creates the database (ConflictError when it exists)."""
    kwargs.pop("output_format", None)
    _datahike.create_database(config_edn(config, **kwargs))


def delete_database(config: Config = None, **kwargs: Any) -> None:
    kwargs.pop("output_format", None)
    _datahike.delete_database(config_edn(config, **kwargs))


def database_exists(config: Config = None, **kwargs: Any) -> bool:
    kwargs.pop("output_format", None)
    return _datahike.database_exists(config_edn(config, **kwargs))


def empty_db(schema: Any = None, config: Config = None) -> Db:
    """A database value with no storage (Datahike's empty-db): schema a DataScript-style map."""
    s = None if schema is None else _text(schema)
    c = None if config is None else config_edn(config)
    return Db(_datahike.empty_db(s, c))


def version() -> str:
    """libdatahike's version."""
    return _datahike.version()


def q(query: Any, *inputs: Any) -> Any:
    """Runs a Datalog query. Db arguments bind, in order, to the query's $ sources; every other
    argument binds to the next remaining :in position (scalars, tuples, collections, relations,
    rule sets, collections of tuples as $ sources)."""
    return _datahike.q_values(query, inputs)


_datahike.set_types({"Db": Db})
