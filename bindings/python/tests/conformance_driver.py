"""The shared conformance corpus (../shared/conformance, format in its README) through the Python
package: the same logic as tests/conformance/driver.cc, with every database built, viewed and read
through datahike's public API and every value passing through datahike.edn both ways.

Run alone for the per-file counts: python3 bindings/python/tests/conformance_driver.py [-v]
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import datahike as d
from datahike import Keyword

REPO_ROOT = Path(__file__).resolve().parents[3]
K = Keyword
_store_ids = itertools.count()


def shared_dir() -> Path:
    env = os.environ.get("DATAHIKE_SHARED_DIR")
    return Path(env) if env else (REPO_ROOT / ".." / "shared").resolve()


def expected_failures(path: Path = REPO_ROOT / "docs" / "conformance.md") -> set:
    """Case ids listed in docs/conformance.md as deliberate differences: lines "- `id`: reason"."""
    ids = set()
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("- `"):
                end = line.find("`", 3)
                if end > 0:
                    ids.add(line[3:end])
    return ids


class NotRunnable(Exception):
    pass


_OPS = {"datoms", "seek-datoms", "rseek-datoms", "index-range", "transact", "entity", "q", "pull",
        "pull-many"}


def _get(m: Any, key: str, default: Any = None) -> Any:
    return m.get(K(key), default) if isinstance(m, dict) else default


def _op(m: Any) -> str:
    op = _get(m, "op")
    return op.value if isinstance(op, Keyword) else ""


# ---- comparison (tests/conformance/compare.cc) -----------------------------------------------

def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal, Fraction)) and not isinstance(v, bool)


def _is_seq(v: Any) -> bool:
    return isinstance(v, (list, tuple))


def values_match(e: Any, a: Any) -> bool:
    if _is_number(e) and _is_number(a):
        if isinstance(e, float) or isinstance(a, float):
            x, y = float(e), float(a)
            if math.isnan(x) or math.isnan(y):
                return math.isnan(x) and math.isnan(y)
            scale = max(abs(x), abs(y))
            return abs(x - y) <= 1e-9 * max(scale, 1e-300) or x == y
        return e == a
    if isinstance(e, bool) or isinstance(a, bool):
        return isinstance(e, bool) and isinstance(a, bool) and e == a
    if _is_seq(e) and _is_seq(a):
        return len(e) == len(a) and all(values_match(x, y) for x, y in zip(e, a))
    if isinstance(e, (set, frozenset)) and isinstance(a, (set, frozenset)):
        return multiset_matches(list(e), list(a), values_match)
    if isinstance(e, dict) and isinstance(a, dict):
        if len(e) != len(a):
            return False
        for k, v in e.items():
            if k not in a or not values_match(v, a[k]):
                return False
        return True
    if isinstance(e, Keyword) != isinstance(a, Keyword):
        return False
    return e == a


def multiset_matches(expected: List[Any], actual: List[Any], match) -> bool:
    if len(expected) != len(actual):
        return False
    used = [False] * len(actual)
    for x in expected:
        for i, y in enumerate(actual):
            if not used[i] and match(x, y):
                used[i] = True
                break
        else:
            return False
    return True


def _is_coll(v: Any) -> bool:
    return isinstance(v, (list, tuple, set, frozenset))


def collection_matches(e: Any, a: Any, ordered: bool) -> bool:
    if not _is_coll(e) or not _is_coll(a):
        return values_match(e, a)
    if ordered and _is_seq(e) and _is_seq(a):
        return values_match(e, a)
    return multiset_matches(list(e), list(a), values_match)


def _row_prefix(e: Any, a: Any) -> bool:
    if not _is_seq(e) or not _is_seq(a) or len(e) > len(a):
        return False
    return all(values_match(x, y) for x, y in zip(e, a))


def datom_rows_match(e: Any, a: Any, ordered: bool) -> bool:
    if not _is_coll(e) or not _is_coll(a):
        return False
    e, a = list(e), list(a)
    if len(e) != len(a):
        return False
    if ordered:
        return all(_row_prefix(x, y) for x, y in zip(e, a))
    return multiset_matches(e, a, _row_prefix)


def tx_data_matches(expected: Any, tx_data: List[d.Datom]) -> bool:
    actual = [[x.e, x.a, x.v, x.added] for x in tx_data if x.a != K("db/txInstant")]
    return _is_coll(expected) and multiset_matches(list(expected), actual, values_match)


def tempids_match(expected: Any, actual: Dict[Any, Any]) -> bool:
    rest = {k: v for k, v in actual.items() if k != K("db/current-tx")}
    return isinstance(expected, dict) and values_match(expected, rest)


# ---- running ---------------------------------------------------------------------------------

def runnable(c: Dict) -> Tuple[bool, str]:
    op = _op(c)
    if op not in _OPS:
        return False, f":op :{op} needs the query engine or pull"
    if op == "transact":
        expect = _get(c, "expect")
        nested = _get(expect, "db-after")
        if nested is not None:
            nop = _op(nested)
            if nop not in _OPS or nop == "transact":
                return False, f":db-after check uses :op :{nop}"
    return True, ""


def build_db(c: Dict, schema: Any = None, tx: Any = None, override: bool = False) -> d.Db:
    txs = tx if override else _get(c, "tx")
    config = _get(c, "config")
    if config is not None:
        cfg = dict(config)
        cfg[K("store")] = {K("backend"): K("memory"),
                           K("id"): f"py-conformance-{os.getpid()}-{next(_store_ids)}"}
        d.create_database(d.edn.dumps(cfg))
        try:
            with d.connect(d.edn.dumps(cfg)) as conn:
                for t in txs or []:
                    conn.transact(t)
                return conn.db()
        finally:
            d.delete_database(d.edn.dumps(cfg))
    sch = schema if override else _get(c, "schema")
    db = d.empty_db(sch, None if _get(c, "db-config") is None else
                    d.edn.dumps(_get(c, "db-config")))
    for t in txs or []:
        db = db.db_with(t)
    return db


def apply_view(db: d.Db, c: Dict) -> d.Db:
    view = _get(c, "view")
    if view is None:
        return db
    kind = view[0].value
    if kind == "as-of":
        return db.as_of(d.edn.dumps(view[1]))
    if kind == "since":
        return db.since(d.edn.dumps(view[1]))
    if kind == "history":
        return db.history()
    raise ValueError(f"unknown view {view!r}")


def run_read(db: d.Db, c: Dict) -> Any:
    op = _op(c)
    if op == "q":
        return d.q(_get(c, "query"), db, *(_get(c, "inputs") or []))
    if op in ("datoms", "seek-datoms", "rseek-datoms"):
        comps = _get(c, "components") or []
        fn = {"datoms": db.datoms, "seek-datoms": db.seek_datoms,
              "rseek-datoms": db.rseek_datoms}[op]
        return [list(x) for x in fn(_get(c, "index"), *comps)]
    if op == "index-range":
        return [list(x) for x in db.index_range(_get(c, "attrid"), _get(c, "start"),
                                                _get(c, "end"))]
    if op == "entity":
        return db.entity(_get(c, "eid"))
    if op == "pull":
        return db.pull(_get(c, "pattern"), _get(c, "eid"))
    if op == "pull-many":
        return db.pull_many(_get(c, "pattern"), _get(c, "eids"))
    raise NotRunnable(op)


def read_matches(c: Dict, expected: Any, actual: Any) -> bool:
    op = _op(c)
    ordered = bool(_get(c, "ordered"))
    if op in ("entity", "pull", "pull-many"):
        return values_match(expected, actual)
    if op == "q":
        if expected is None:
            return actual is None or (_is_coll(actual) and len(actual) == 0)
        if isinstance(expected, (set, frozenset)) and _is_coll(actual):
            return collection_matches(expected, {d.edn._freeze(x) for x in actual}, False)
        if _is_coll(expected):
            return collection_matches(expected, actual, ordered)
        return values_match(expected, actual)
    return datom_rows_match(expected, actual, ordered)


def _message_ok(expect_error: Any, e: d.DatahikeError) -> bool:
    return not isinstance(expect_error, str) or expect_error in e.message


def run_case(c: Dict) -> Tuple[str, str]:
    """("passed" | "failed" | "not-runnable", detail)."""
    ok, why = runnable(c)
    if not ok:
        return "not-runnable", why
    expect_error = _get(c, "expect-error")
    op = _op(c)
    try:
        if op == "transact":
            db = apply_view(build_db(c), c)
            try:
                r = db.with_(_get(c, "tx-data"))
            except d.DatahikeError as e:
                if not expect_error:
                    return "failed", f"error: {e}"
                if not _message_ok(expect_error, e):
                    return "failed", f"wrong error: {e}"
                return "passed", ""
            if expect_error:
                return "failed", "expected an error, the transaction succeeded"
            expect = _get(c, "expect")
            td = _get(expect, "tx-data")
            if td is not None and not tx_data_matches(td, r.tx_data):
                return "failed", f"tx-data {r.tx_data}"
            tids = _get(expect, "tempids")
            if tids is not None and not tempids_match(tids, r.tempids):
                return "failed", f"tempids {r.tempids}"
            nested = _get(expect, "db-after")
            if nested is not None:
                got = run_read(r.db_after, nested)
                if not read_matches(nested, _get(nested, "expect"), got):
                    return "failed", f"db-after {got!r}"
            return "passed", ""
        dbs = _get(c, "dbs")
        if dbs is not None and op == "q":
            built = [apply_view(build_db(c, _get(x, "schema"), _get(x, "tx"), True), c)
                     for x in dbs]
            got = d.q(_get(c, "query"), *built, *(_get(c, "inputs") or []))
        else:
            got = run_read(apply_view(build_db(c), c), c)
        if expect_error:
            return "failed", f"expected an error, got {got!r}"
        if not read_matches(c, _get(c, "expect"), got):
            return "failed", f"got {got!r}"
        return "passed", ""
    except NotRunnable as n:
        return "not-runnable", str(n)
    except d.DatahikeError as e:
        if expect_error:
            if not _message_ok(expect_error, e):
                return "failed", f"wrong error: {e}"
            return "passed", ""
        return "failed", f"error: {e}"


def run_all(directory: Optional[Path] = None, verbose: bool = False, out=sys.stdout) -> Dict:
    directory = directory or (shared_dir() / "conformance")
    expected = expected_failures()
    totals = {"passed": 0, "failed": 0, "expected": 0, "not-runnable": 0, "unexpected": []}
    for f in sorted(directory.glob("*.edn")):
        cases = d.edn.loads(f.read_text(encoding="utf-8"))
        counts = {"passed": 0, "failed": 0, "expected": 0, "not-runnable": 0}
        for c in cases:
            cid = _get(c, "id", "?")
            outcome, detail = run_case(c)
            if outcome == "failed" and cid in expected:
                counts["expected"] += 1
            else:
                counts[outcome] += 1
            if outcome == "failed" and cid not in expected:
                totals["unexpected"].append((cid, detail[:400]))
                print(f"  FAIL {cid}: {detail[:400]}", file=out)
            elif verbose and outcome != "passed":
                print(f"  {outcome} {cid}: {detail[:400]}", file=out)
        print(f"{f.name:<24} passed {counts['passed']:3d}  failed {counts['failed']:3d}  "
              f"expected-failures {counts['expected']:3d}  not runnable "
              f"{counts['not-runnable']:3d}", file=out)
        for k in counts:
            totals[k] += counts[k]
    print(f"conformance (Python): {totals['passed']} passed, {totals['failed']} failed, "
          f"{totals['expected']} expected failures, {totals['not-runnable']} not runnable",
          file=out)
    return totals


if __name__ == "__main__":
    t = run_all(verbose="-v" in sys.argv)
    sys.exit(1 if t["unexpected"] else 0)
