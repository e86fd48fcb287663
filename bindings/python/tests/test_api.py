import datetime as dt
import uuid

import pytest

import datahike as d
from datahike import Keyword as K, Symbol as S


def test_version():
    assert d.version() == "0.1.0"


def test_lifecycle(cfg):
    assert d.database_exists(cfg) is False
    d.create_database(cfg)
    assert d.database_exists(cfg) is True
    with pytest.raises(d.ConflictError):
        d.create_database(cfg)
    d.delete_database(cfg)
    assert d.database_exists(cfg) is False
    with pytest.raises(d.NotFoundError):
        d.connect(cfg)


def test_config_as_edn_string(cfg):
    text = d.edn.dumps({K("store"): {K("backend"): K("memory"), K("id"): cfg["store"]["id"]}})
    d.create_database(text)
    assert d.database_exists(cfg)
    with d.connect(text) as conn:
        assert not conn.closed
    assert conn.closed


def test_transact_report(conn):
    before = conn.db()
    r = conn.transact([{"db/id": "dan", "name": "Dan", "age": 50}])
    assert isinstance(r, d.TxReport)
    assert isinstance(r["db-before"], d.Db) and isinstance(r["db-after"], d.Db)
    dan = r.tempids["dan"]
    assert r.tempids[K("db/current-tx")] > 536870912
    assert {(x.e, x.a, x.v, x.added) for x in r.tx_data if x.a != K("db/txInstant")} == {
        (dan, K("name"), "Dan", True), (dan, K("age"), 50, True)}
    q = "[:find ?n :where [?e :name ?n]]"
    assert ("Dan",) not in d.q(q, r.db_before) and ("Dan",) in d.q(q, r.db_after)
    assert d.q(q, before) == d.q(q, r.db_before)
    # The report's values are the transaction's own, whatever the connection does next.
    conn.transact([{"name": "Zed"}])
    assert ("Zed",) not in d.q(q, r.db_after)
    assert r.db_after.commit_id() == r.tx_meta[K("db/commitId")]
    assert r.db_before.commit_id() == before.commit_id()
    # A copy is a second handle to the same value.
    copy = r.db_after.copy()
    r.db_after.release()
    assert ("Dan",) in d.q(q, copy)
    r2 = d.transact(conn, "[[:db/add -1 :name \"Eve\"]]", {"db/doc": "test"})
    # As in Datahike, the report's tx-meta also carries the new commit's id.
    assert r2.tx_meta == {K("db/doc"): "test", K("db/commitId"): r2.db_after.commit_id()}


def test_q_forms(conn):
    db = conn.db()
    text = "[:find ?n ?a :where [?e :name ?n] [?e :age ?a]]"
    want = {("Alice", 30), ("Bob", 25), ("Charlie", 40)}
    assert d.q(text, db) == want
    data = [K("find"), S("?n"), S("?a"), K("where"), [S("?e"), K("name"), S("?n")],
            [S("?e"), K("age"), S("?a")]]
    assert d.q(data, db) == want
    assert db.q({K("find"): [S("?n")], K("where"): [[S("?e"), K("name"), S("?n")]]}) == {
        ("Alice",), ("Bob",), ("Charlie",)}
    # scalar, collection and relation inputs; a str input is a string value
    assert d.q("[:find ?a . :in $ ?n :where [?e :name ?n] [?e :age ?a]]", db, "Bob") == 25
    assert d.q("[:find [?a ...] :in $ [?n ...] :where [?e :name ?n] [?e :age ?a]]", db,
               ["Alice", "Bob"]) in ([30, 25], [25, 30])
    assert d.q("[:find ?n :in $ [[?n ?x]] :where [?e :name ?n]]", db,
               [("Alice", 1), ("Zed", 2)]) == {("Alice",)}
    assert d.q("[:find (max ?a) . :where [_ :age ?a]]", db) == 40
    assert d.q("[:find ?n :in $ % :where (old ?n)]", db,
               d.edn.loads("[[(old ?n) [?e :name ?n] [?e :age ?a] [(> ?a 35)]]]")) == {
        ("Charlie",)}
    # no db: a query over plain collections
    assert d.q("[:find ?x :in [?x ...]]", [1, 2, 3]) == {(1,), (2,), (3,)}
    assert d.q("[:find ?n . :where [?e :name \"Nobody\"] [?e :name ?n]]", db) is None


def test_pull_entity(conn):
    db = conn.db()
    alice = d.q("[:find ?e . :where [?e :name \"Alice\"]]", db)
    assert d.pull(db, "[:name :age]", alice) == {K("name"): "Alice", K("age"): 30}
    assert db.pull([K("name"), {K("friend"): [K("name")]}], [K("name"), "Bob"]) == {
        K("name"): "Bob", K("friend"): [{K("name"): "Alice"}]}
    p = db.pull("[*]", alice)
    assert p[":name"] == "Alice" and p[K("db/id")] == alice
    assert d.pull_many(db, "[:name]", [alice, [K("name"), "Charlie"]]) == [
        {K("name"): "Alice"}, {K("name"): "Charlie"}]
    e = d.entity(db, [K("name"), "Alice"])
    assert e[K("age")] == 30
    assert db.entity(999999) is None
    assert db.pull("[:name]", 999999) is None


def test_datoms_and_ranges(conn):
    db = conn.db()
    alice = d.q("[:find ?e . :where [?e :name \"Alice\"]]", db)
    rows = d.datoms(db, K("eavt"), alice)
    assert {(x.a, x.v) for x in rows} == {(K("name"), "Alice"), (K("age"), 30)}
    assert all(isinstance(x, d.Datom) and x.added for x in rows)
    assert [x.v for x in db.datoms(":avet", K("age"))] == [25, 30, 40]
    assert [x.v for x in db.seek_datoms("avet", K("age"), 30)][:2] == [30, 40]
    assert [x.v for x in db.rseek_datoms(K("avet"), K("age"), 30)][:2] == [30, 25]
    assert [x.v for x in d.index_range(db, K("age"), 26, 40)] == [30, 40]
    assert [x.v for x in db.index_range("age", None, 29)] == [25]


def test_schema(conn):
    db = conn.db()
    s = d.schema(db)
    assert s[K("name")][K("db/valueType")] == K("db.type/string")
    rs = d.reverse_schema(db)
    assert K("friend") in rs[K("db.type/ref")]
    m = d.metrics(db)
    assert m[K("count")] > 0 and K("per-attr-counts") in m


def test_time_travel(conn):
    db0 = conn.db()
    t0 = max(x.tx for x in db0.datoms(K("eavt")))
    conn.transact([{"db/id": [K("name"), "Alice"], "age": 31}])
    db1 = conn.db()
    q = "[:find ?a . :where [?e :name \"Alice\"] [?e :age ?a]]"
    assert d.q(q, db1) == 31
    assert d.q(q, db1.as_of(t0)) == 30 == d.q(q, d.as_of(db1, t0))
    assert d.q("[:find ?a :where [?e :age ?a]]", db1.since(t0)) == {(31,)}
    assert d.q("[:find ?a ?added :where [?e :name \"Alice\"] [?e :age ?a _ ?added]]",
               db1.history()) == {(30, True), (30, False), (31, True)}
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert d.q(q, db1.as_of(future)) == 31


def test_empty_db_and_db_with():
    db = d.empty_db({K("aka"): {K("db/cardinality"): K("db.cardinality/many")}})
    r = db.with_([{"db/id": -1, "name": "Maksim", "aka": ["Max", "M"]}])
    assert r.tempids[-1] == 1
    db2 = d.db_with(db, [[K("db/add"), 1, K("age"), 45]])
    assert d.q("[:find ?v :where [1 :aka ?v]]", r.db_after) == {("Max",), ("M",)}
    assert d.q("[:find ?v :where [1 _ ?v]]", db2) == {(45,)}
    assert d.q("[:find ?e :where [?e _ _]]", db) == set()


def test_values_round_trip_through_engine():
    db = d.empty_db()
    u = uuid.uuid4()
    t = dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)
    from decimal import Decimal
    values = {"s": 'quote " backslash \\ newline \n unicode é ☃', "i": -42, "f": 1.5,
              "b": False, "k": K("ns/kw"), "u": u, "t": t, "big": 2 ** 70,
              "dec": Decimal("1.25"), "sym": S("my/sym")}
    r = db.with_([dict({"db/id": -1}, **values)])
    e = r.tempids[-1]
    got = r.db_after.pull("[*]", e)
    for k, v in values.items():
        assert got[K(k)] == v, k
        assert type(got[K(k)]) is type(v) or isinstance(got[K(k)], type(v)), k


def test_context_managers_and_release(cfg):
    d.create_database(cfg)
    with d.connect(cfg) as conn:
        with conn.db() as db:
            assert d.q("[:find ?e :where [?e :db/ident :db/ident]]", db) is not None
        assert db.released
        with pytest.raises(d.MisuseError):
            db.datoms(K("eavt"))
        kept = conn.db()
    # A db value stays valid after its connection closes.
    assert isinstance(d.q("[:find ?e :where [?e _ _]]", kept), set)
    d.release(kept)
    d.release(kept)  # idempotent
