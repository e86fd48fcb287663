"""pydatahike's low-level API: functions taking the config as EDN text, connecting per call.

Each function has pydatahike's signature. Databases are named by (input_format, config) pairs:
input_format "db" (the latest value of the config's :branch), "history", "asof:<ms>" and
"since:<ms>" (a Unix time in milliseconds), "branch:<name>" (a branch's head) and "commit:<uuid>"
(any commit). Query inputs also take ("param", edn), ("edn", edn) and ("json", json) values.
output_format: "cbor" (the default: Python values with keywords as ":ns/name" strings, vectors
and sets as lists), "json" (the engine's JSON, parsed) or "edn" (the EDN text).

The versioning functions (branches, branch, delete_branch, commit_id, parent_commit_ids,
merge_db) give with output_format "json" the tagged JSON of Datahike's libdatahike, as
pydatahike's tests read it: ["!set", [...]], ["!kw", "name"], ["!uuid", "..."]; with "cbor"
branch names are ":name" strings and commit ids uuid strings. gc_storage is not in libdatahike's
C ABI yet: it raises UnsupportedError.
"""

from __future__ import annotations

import datetime as _dt
import json as _json
import uuid as _uuid_mod
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _datahike
from ._rules import config_edn, value_to_edn
from .api import _EDN, _JSON, _VALUES, branch_edn, commit_edn, parents_edn, ref_edn
from .edn import FrozenDict, Keyword, Symbol, format_inst, loads
from .errors import MisuseError, UnsupportedError

__all__ = [
    "database_exists", "create_database", "delete_database", "q", "transact", "pull",
    "pull_many", "entity", "datoms", "seek_datoms", "index_range", "schema", "reverse_schema",
    "metrics", "gc_storage", "branches", "branch", "delete_branch", "commit_id",
    "parent_commit_ids", "merge_db", "plain",
]


def plain(v: Any) -> Any:
    """pydatahike's result shape: keywords and symbols as strings (":name"), vectors, lists and
    sets as lists, maps as dicts with such keys."""
    if isinstance(v, Keyword):
        return str(v)
    if isinstance(v, Symbol):
        return v.value
    if isinstance(v, dict):
        return {plain(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [plain(x) for x in v]
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, str):
        return str.__str__(v)
    return v


def _out(fmt: str, call: Callable[[int], str]) -> Any:
    if fmt == "edn":
        return call(_EDN)
    if fmt == "json":
        return _json.loads(call(_JSON))
    if fmt == "cbor":
        return plain(call(_VALUES))
    raise ValueError(f"Unknown output format: {fmt!r}. Expected one of: 'json', 'edn', 'cbor'")


def _ms_inst(ms: str) -> str:
    t = _dt.datetime.fromtimestamp(int(ms) / 1000.0, tz=_dt.timezone.utc)
    return format_inst(t)


def _view(conn_handle: Any, input_format: str) -> Any:
    """The raw db handle an input format names, from an open raw connection."""
    db = conn_handle.db()
    if input_format == "db":
        return db
    if input_format == "history":
        return db.history()
    if input_format.startswith("asof:"):
        return db.as_of(_ms_inst(input_format[5:]))
    if input_format.startswith("since:"):
        return db.since(_ms_inst(input_format[6:]))
    if input_format.startswith("branch:"):
        return conn_handle.branch_db(branch_edn(input_format[7:]))
    if input_format.startswith("commit:"):
        return conn_handle.commit_db(commit_edn(input_format[7:]))
    raise MisuseError(f"unknown input format {input_format!r}")


_DB_FORMATS = ("db", "history")
_DB_PREFIXES = ("asof:", "since:", "branch:", "commit:")


def is_input_format(fmt: Any) -> bool:
    return isinstance(fmt, str) and (fmt in _DB_FORMATS or fmt in ("param", "edn", "json")
                                     or fmt.startswith(_DB_PREFIXES))


def _connect(config: str) -> Any:
    return _datahike.Conn.connect(config_edn(config))


def _on_db(config: str, input_format: str, fn: Callable[[Any], Any]) -> Any:
    conn = _connect(config)
    try:
        return fn(_view(conn, input_format))
    finally:
        conn.release()


def database_exists(config: Any, output_format: str = "cbor") -> bool:
    return _datahike.database_exists(config_edn(config))


def create_database(config: Any, output_format: str = "cbor") -> None:
    _datahike.create_database(config_edn(config))


def delete_database(config: Any, output_format: str = "cbor") -> None:
    _datahike.delete_database(config_edn(config))


def _input_value(fmt: str, value: Any) -> str:
    if fmt in ("param", "edn"):
        return value if isinstance(value, str) else value_to_edn(value)
    # JSON text, read with the JSON mapping of the C ABI (keys and ":x" strings are keywords).
    return value_to_edn(_json.loads(value) if isinstance(value, str) else value)


def q(query: str, inputs: Sequence[Tuple[str, Any]], output_format: str = "cbor") -> Any:
    """Runs query against inputs, a list of (input_format, value) pairs."""
    conns: List[Any] = []
    try:
        dbs, args = [], []
        for fmt, value in inputs:
            if fmt in _DB_FORMATS or fmt.startswith(_DB_PREFIXES):
                conns.append(_connect(value))
                dbs.append(_view(conns[-1], fmt))
            elif fmt in ("param", "edn", "json"):
                args.append(_input_value(fmt, value))
            else:
                raise MisuseError(f"unknown input format {fmt!r}")
        arg_text = "[" + " ".join(args) + "]" if args else None
        return _out(output_format,
                    lambda f: _datahike.q(query, dbs, arg_text, f))
    finally:
        for c in conns:
            c.release()


def transact(config: str, tx_data: str, input_format: str = "json",
             output_format: str = "cbor") -> Any:
    """Transacts tx_data (JSON or EDN text) and returns the report (db-before/db-after as their
    basis, {:max-tx .. :max-eid ..})."""
    tx_data, fmt_in = _tx_input(tx_data, input_format)
    conn = _connect(config)
    try:
        return _out(output_format, lambda f: _transact(conn, tx_data, fmt_in, f))
    finally:
        conn.release()


def _tx_input(tx_data: Any, input_format: str) -> Tuple[str, int]:
    """tx-data as text and its ABI format: JSON or EDN text as input_format says, or Python data
    (printed as EDN by pydatahike's rules)."""
    if not isinstance(tx_data, str):
        return value_to_edn(tx_data), _EDN
    if input_format not in ("json", "edn"):
        raise ValueError(f"Unknown input format: {input_format!r}. Expected 'json' or 'edn'")
    return tx_data, _JSON if input_format == "json" else _EDN


def _transact(conn: Any, tx: str, fmt_in: int, fmt_out: int) -> Any:
    """The report of transacting tx (text in fmt_in) in fmt_out."""
    if fmt_in == fmt_out or (fmt_in == _EDN and fmt_out == _VALUES):
        return conn.transact(tx, fmt_out, True)
    # The report comes in the input's format; read it back in the wanted one.
    text = conn.transact(tx, fmt_in, True)
    if fmt_out == _JSON:
        return _json.dumps(plain(loads(text)), default=str)
    edn_text = value_to_edn(_json.loads(text))
    return loads(edn_text) if fmt_out == _VALUES else edn_text


def _eid(eid: Any) -> str:
    """An EDN argument: a str is EDN text already, anything else is printed."""
    return eid if isinstance(eid, str) else value_to_edn(eid)


def _opt_edn(x: Any) -> Optional[str]:
    return None if x is None else _eid(x)


def _by_eid(method: Callable, lead: Tuple[Any, ...], eid: Any, fmt: int) -> str:
    """Calls method(*lead, eid, fmt): eid in fmt when it is an entity id, otherwise in EDN with
    the result mapped to JSON here (eids are EDN in pydatahike, the ABI takes them in fmt)."""
    if fmt != _JSON or (isinstance(eid, int) and not isinstance(eid, bool)):
        return method(*lead, _eid(eid), fmt)
    return _json.dumps(_json_plain(method(*lead, _eid(eid), _VALUES)), default=str)


def pull(config: str, selector: str, eid: Any, input_format: str = "db",
         output_format: str = "cbor") -> Any:
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: _by_eid(db.pull, (selector,), eid, f)))


def pull_many(config: str, selector: str, eids: Sequence[Any], input_format: str = "db",
              output_format: str = "cbor") -> Any:
    eids_edn = eids if isinstance(eids, str) else value_to_edn(list(eids))
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: _by_eid(db.pull_many, (selector,), eids_edn, f)))


def _json_plain(v: Any) -> Any:
    """The C ABI's JSON mapping of a value: map keys without the colon, keywords ":x"."""
    if isinstance(v, dict):
        return {(str(k)[1:] if isinstance(k, Keyword) else str(_json_plain(k))): _json_plain(x)
                for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [_json_plain(x) for x in v]
    return plain(v)


def entity(config: str, eid: Any, input_format: str = "db", output_format: str = "cbor") -> Any:
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: _by_eid(db.entity, (), eid, f)))


def _datoms(which: str, config: str, index: str, components: Any, input_format: str,
            output_format: str) -> Any:
    comps = None if components is None else _components(components)
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: db.datoms(which, _kw_text(index), comps, f)))


def datoms(config: str, index: str, components: Any = None, input_format: str = "db",
           output_format: str = "cbor") -> Any:
    return _datoms("datoms", config, index, components, input_format, output_format)


def seek_datoms(config: str, index: str, components: Any = None, input_format: str = "db",
                output_format: str = "cbor") -> Any:
    return _datoms("seek", config, index, components, input_format, output_format)


def _components(c: Any) -> str:
    if isinstance(c, str):
        return c
    # pydatahike passes components as EDN texts: [':name', '"Alice"'].
    return "[" + " ".join(x if isinstance(x, str) else value_to_edn(x) for x in c) + "]"


def _kw_text(x: str) -> str:
    x = str(x)
    return x if x.startswith(":") else ":" + x


def index_range(config: str, attrid: str, start: Any, end: Any, input_format: str = "db",
                output_format: str = "cbor") -> Any:
    s, e = _opt_edn(start), _opt_edn(end)
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: db.index_range(_kw_text(attrid), s, e, f)))


def schema(config: str, input_format: str = "db", output_format: str = "cbor") -> Any:
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: db.schema(f)))


def reverse_schema(config: str, input_format: str = "db", output_format: str = "cbor") -> Any:
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: db.reverse_schema(f)))


def metrics(config: str, input_format: str = "db", output_format: str = "cbor") -> Any:
    return _on_db(config, input_format, lambda db: _out(
        output_format, lambda f: db.metrics(f)))


def _unsupported(name: str) -> Callable[..., Any]:
    def fn(*_args: Any, **_kwargs: Any) -> Any:
        raise UnsupportedError(f"{name}: not in libdatahike's C ABI yet (branches, commits and "
                               "storage GC are planned, DESIGN.md section 6)")

    fn.__name__ = name
    fn.__doc__ = f"pydatahike's {name}; raises UnsupportedError (not in the C ABI yet)."
    return fn


gc_storage = _unsupported("gc_storage")


# ---- branches and commits


def _tagged(v: Any) -> Any:
    """libdatahike's tagged JSON of a versioning result (jsonista's tagged encoding)."""
    if isinstance(v, Keyword):
        return ["!kw", str(v)[1:]]
    if isinstance(v, _uuid_mod.UUID):
        return ["!uuid", str(v)]
    if isinstance(v, (set, frozenset)):
        return ["!set", [_tagged(x) for x in v]]
    if isinstance(v, (list, tuple)):
        return [_tagged(x) for x in v]
    return v


def _versioning_out(fmt: str, edn_text: str) -> Any:
    if fmt == "edn":
        return edn_text
    v = loads(edn_text)
    if fmt == "json":
        return _tagged(v)
    if fmt == "cbor":
        return _cbor_plain(v)
    raise ValueError(f"Unknown output format: {fmt!r}. Expected one of: 'json', 'edn', 'cbor'")


def _cbor_plain(v: Any) -> Any:
    if isinstance(v, _uuid_mod.UUID):
        return str(v)
    if isinstance(v, (set, frozenset, list, tuple)):
        return [_cbor_plain(x) for x in v]
    return plain(v)


def _on_conn(config: str, fn: Callable[[Any], Any]) -> Any:
    conn = _connect(config)
    try:
        return fn(conn)
    finally:
        conn.release()


def branches(config: str, output_format: str = "cbor") -> Any:
    """The database's branch names (a set: ["!set", [["!kw", "db"], ...]] in JSON)."""
    return _versioning_out(output_format,
                           _on_conn(config, lambda c: c.branches(_EDN)))


def branch(config: str, from_: str, new_branch: str, output_format: str = "cbor") -> None:
    """Datahike's branch!: new_branch from a branch name or a commit uuid."""
    _on_conn(config, lambda c: c.branch(ref_edn(from_), branch_edn(new_branch)))


def delete_branch(config: str, branch_name: str, output_format: str = "cbor") -> None:
    """Datahike's delete-branch! (not :db)."""
    _on_conn(config, lambda c: c.delete_branch(branch_edn(branch_name)))


def commit_id(config: str, input_format: str = "db", output_format: str = "cbor") -> Any:
    """The commit id of the db that input_format names (the branch head by default)."""
    return _on_db(config, input_format, lambda db: _versioning_out(
        output_format, db.commit_id(_EDN)))


def parent_commit_ids(config: str, input_format: str = "db", output_format: str = "cbor") -> Any:
    """The parent commit ids of the db that input_format names (a set)."""
    return _on_db(config, input_format, lambda db: _versioning_out(
        output_format, db.parent_commit_ids(_EDN)))


def _parents_text(parents: Any) -> str:
    if isinstance(parents, str) and parents.lstrip().startswith(("#{", "[", "(")):
        return parents  # EDN text of the collection
    return parents_edn(parents)


def merge_db(config: str, parents: Any, tx_data: Any, input_format: str = "json",
             output_format: str = "cbor") -> Any:
    """Datahike's merge!: transacts tx_data on the config's branch as one commit whose parents are
    its head and parents (branch names and commit uuids); returns the new commit's id."""
    tx_data, fmt_in = _tx_input(tx_data, input_format)
    parents_text = _parents_text(parents)

    def run(c: Any) -> str:
        c.merge(parents_text, tx_data, fmt_in, False)
        db = c.db()
        try:
            return db.commit_id(_EDN)
        finally:
            db.release()

    return _versioning_out(output_format, _on_conn(config, run))
