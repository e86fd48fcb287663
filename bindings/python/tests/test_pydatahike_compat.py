"""pydatahike's API on this engine (its own tests run unchanged too; see the README)."""

import uuid

import pytest

import datahike
from datahike import Database, database, edn, kw


def mem():
    return f'{{:store {{:backend :memory :id #uuid "{uuid.uuid4()}"}} :schema-flexibility :read}}'


def test_database_methods():
    with database(mem()) as db:
        db.transact([{"name": "Alice", "age": 30, "status": ":active"},
                     {"name": "Bob", "age": 25, "note": "\\:colon"}])
        assert sorted(db.q("[:find ?n ?a :where [?e :name ?n] [?e :age ?a]]")) == [
            ["Alice", 30], ["Bob", 25]]
        eid = db.q('[:find ?e . :where [?e :name "Alice"]]')
        assert db.pull("[:name :age :status]", eid) == {":name": "Alice", ":age": 30,
                                                         ":status": ":active"}
        assert db.pull("[*]", eid, output_format="json")["name"] == "Alice"
        assert db.q('[:find ?x . :where [?e :note ?x]]') == ":colon"
        assert db.q("[:find ?e . :in $ ?n :where [?e :name ?n]]", ("param", '"Bob"')) is not None
        # as in pydatahike, a bare str argument is EDN text
        assert db.q("[:find ?e . :in $ ?n :where [?e :name ?n]]", '"Bob"') is not None
        assert len(db.pull_many("[:name]", [eid])) == 1
        assert db.entity(eid)[":name"] == "Alice"
        assert len(db.datoms(":eavt")) > 0
        assert sorted(db.history.q("[:find ?n :where [?e :name ?n]]")) == [["Alice"], ["Bob"]]
        assert db.exists()
        assert isinstance(db.schema(), dict) and isinstance(db.metrics(), dict)
        assert db.q("[:find ?n :where [?e :name ?n]]", output_format="edn").startswith("#{")


def test_time_travel_ms():
    import time
    with database(mem()) as db:
        db.transact({"name": "Alice"})
        time.sleep(0.01)
        t = int(time.time() * 1000)
        time.sleep(0.01)
        db.transact({"name": "Bob"})
        assert db.as_of(t).q("[:find ?n :where [?e :name ?n]]") == [["Alice"]]
        assert db.since(t).q("[:find ?n :where [?e :name ?n]]") == [["Bob"]]


def test_helpers_and_low_level():
    cfg = mem()
    datahike.create_database(cfg)
    try:
        datahike.transact(cfg, "[{:db/ident :person/name :db/valueType :db.type/string "
                               ":db/cardinality :db.cardinality/one}]", input_format="edn")
        Database(cfg).transact([{kw.DB_ID: -1, "person/name": edn.string(":x")}])
        assert datahike.q("[:find ?n . :where [_ :person/name ?n]]", [("db", cfg)]) == ":x"
        assert datahike.schema(cfg)[":person/name"][":db/valueType"] == ":db.type/string"
    finally:
        datahike.delete_database(cfg)
    with pytest.raises(datahike.UnsupportedError):
        datahike.gc_storage(cfg)
    with pytest.raises(datahike.NotFoundError):
        datahike.branches(cfg)
    with pytest.raises(datahike.DatahikeException):
        datahike.q("[:find ?e :where [?e :a 1]]", [("db", cfg)])
