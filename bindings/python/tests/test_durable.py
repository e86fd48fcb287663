import datahike as d
from datahike import Keyword as K


def test_file_database_reopens(tmp_path):
    cfg = {"store": {"backend": K("file"), "path": str(tmp_path / "db")}}
    d.create_database(cfg)
    assert d.database_exists(cfg)
    with d.connect(cfg) as conn:
        conn.transact([{"db/ident": K("name"), "db/valueType": K("db.type/string"),
                        "db/cardinality": K("db.cardinality/one")}])
        conn.transact([{"name": "Ann"}, {"name": "Ben"}])
        conn.transact([[K("db/retract"), 2, K("name"), "Ann"]])
    # Released: the store is flushed and unlocked, and a new connection reads it back.
    with d.connect(cfg) as conn:
        q = "[:find ?n :where [_ :name ?n]]"
        assert d.q(q, conn.db()) == {("Ben",)}
        assert d.q(q, conn.db().history()) == {("Ann",), ("Ben",)}
        conn.transact([{"name": "Cy"}])
    with d.connect(cfg) as conn:
        assert d.q("[:find (count ?e) . :where [?e :name]]", conn.db()) == 2
    d.delete_database(cfg)
    assert not d.database_exists(cfg)
    assert not (tmp_path / "db").exists()
