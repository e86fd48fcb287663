"""Branches and commits: the Pythonic API and pydatahike's low-level functions."""

import uuid

import pytest

import datahike as d
from datahike import Keyword as K

SKU = [{"db/ident": K("sku"), "db/valueType": K("db.type/string"),
        "db/cardinality": K("db.cardinality/one"), "db/unique": K("db.unique/identity")}]
SKUS = "[:find [?s ...] :where [_ :sku ?s]]"


@pytest.fixture
def sku_conn(cfg):
    d.create_database(cfg)
    with d.connect(cfg) as c:
        c.transact(SKU)
        c.transact([{"sku": "A"}])
        yield c


def branch_cfg(cfg, name):
    return {**cfg, "branch": K(name)}


def test_commit_ids_and_parents(sku_conn):
    db = sku_conn.db()
    cid = db.commit_id()
    assert isinstance(cid, uuid.UUID) and cid.version == 4
    report = sku_conn.transact([{"sku": "B"}])
    assert report.tx_meta[K("db/commitId")] == sku_conn.db().commit_id() != cid
    assert sku_conn.db().parent_commit_ids() == frozenset({cid})
    assert d.commit_id(db) == cid
    assert sku_conn.db().history().commit_id() is None
    assert db.db_with([{"sku": "C"}]).commit_id() is None
    assert db.db_with([]).parent_commit_ids() is None
    assert d.empty_db().commit_id() is None
    assert sku_conn.branch_history()[1] == cid


def test_branch_transact_merge(cfg, sku_conn):
    assert sku_conn.branches() == {K("db")}
    assert sku_conn.branch == K("db")
    d.branch(sku_conn, "db", "feature")
    assert d.branches(sku_conn) == {K("db"), K("feature")}
    with d.connect(branch_cfg(cfg, "feature")) as feature:
        assert feature.branch == K("feature")
        feature.transact([{"sku": "B"}])
        assert sorted(d.q(SKUS, feature.db())) == ["A", "B"]
        assert d.q(SKUS, sku_conn.db()) == ["A"]
        assert sorted(d.q(SKUS, sku_conn.branch_as_db("feature"))) == ["A", "B"]
        head = sku_conn.db().commit_id()
        fhead = feature.db().commit_id()
        report = sku_conn.merge(["feature"], [{"sku": "B"}])
        assert sorted(d.q(SKUS, report.db_after)) == ["A", "B"]
        assert sku_conn.db().parent_commit_ids() == {head, fhead}
        assert d.merge_db(sku_conn, [fhead], []).db_after.commit_id() == sku_conn.db().commit_id()
    old = sku_conn.commit_as_db(head)
    assert d.q(SKUS, old) == ["A"]
    sku_conn.create_branch(head, K("snapshot"))
    assert d.q(SKUS, sku_conn.branch_as_db(":snapshot")) == ["A"]
    d.delete_branch(sku_conn, "feature")
    assert sku_conn.branches() == {K("db"), K("snapshot")}


def test_force_branch(sku_conn):
    with_c = sku_conn.db().db_with([{"sku": "C"}])
    d.force_branch(with_c, "forced", ["db"])
    assert sorted(d.q(SKUS, sku_conn.branch_as_db("forced"))) == ["A", "C"]
    with pytest.raises(d.MisuseError):
        d.force_branch(sku_conn.db().history(), "x", ["db"])


def test_branch_errors(cfg, sku_conn):
    with pytest.raises(d.ConflictError, match="already exists"):
        sku_conn.create_branch("db", "db")
    with pytest.raises(d.NotFoundError, match="Branch :nope does not exist"):
        sku_conn.create_branch("nope", "x")
    with pytest.raises(d.NotFoundError):
        sku_conn.commit_as_db(uuid.uuid4())
    with pytest.raises(d.NotFoundError):
        sku_conn.branch_as_db("nope")
    with pytest.raises(d.NotFoundError):
        d.connect(branch_cfg(cfg, "nope"))
    with pytest.raises(d.MisuseError, match=":db"):
        sku_conn.delete_branch("db")
    with pytest.raises(d.NotFoundError):
        sku_conn.delete_branch("nope")
    with pytest.raises(d.NotFoundError):
        sku_conn.merge(["nope"], [])
    with pytest.raises(d.MisuseError):
        sku_conn.merge([], [])
    with pytest.raises(ValueError):
        sku_conn.commit_as_db("not-a-uuid")
    with pytest.raises(TypeError):
        sku_conn.delete_branch(42)
    # A deleted branch's connection fails; a closed connection too.
    sku_conn.create_branch("db", "gone")
    with d.connect(branch_cfg(cfg, "gone")) as gone:
        sku_conn.delete_branch("gone")
        with pytest.raises(d.NotFoundError):
            gone.db()
    closed = d.connect(cfg)
    closed.close()
    with pytest.raises(d.MisuseError):
        closed.branches()
    with pytest.raises(d.MisuseError):
        closed.create_branch("db", "x")


def mem():
    return '{:store {:backend :memory :id #uuid "' + str(uuid.uuid4()) + '"}}'


def test_pydatahike_versioning_functions():
    cfg = mem()
    d.create_database(cfg)
    try:
        d.transact(cfg, "[{:db/ident :sku :db/valueType :db.type/string "
                        ":db/cardinality :db.cardinality/one}]", input_format="edn")
        assert d.branches(cfg) == [":db"]
        assert d.branches(cfg, output_format="json") == ["!set", [["!kw", "db"]]]
        assert d.branches(cfg, output_format="edn") == "#{:db}"
        cid = d.commit_id(cfg)
        assert isinstance(cid, str) and uuid.UUID(cid)
        assert d.commit_id(cfg, output_format="json") == ["!uuid", cid]
        d.branch(cfg, cid, "snap")
        d.branch(cfg, "db", ":feature")
        assert sorted(d.branches(cfg)) == [":db", ":feature", ":snap"]
        feature = cfg[:-1] + " :branch :feature}"
        d.transact(feature, '[{"sku": "B"}]')
        assert d.q(SKUS, [("branch:feature", cfg)]) == ["B"]
        assert d.q(SKUS, [("db", cfg)]) == []
        merged = d.merge_db(cfg, ["feature"], '[{"sku": "B"}]')
        assert merged == d.commit_id(cfg)
        parents = d.parent_commit_ids(cfg)
        assert len(parents) == 2 and cid in parents
        assert d.q(SKUS, [("commit:" + cid, cfg)]) == []
        assert d.commit_id(cfg, input_format="commit:" + cid) == cid
        assert d.parent_commit_ids(cfg, input_format="branch:snap", output_format="json")[0] == "!set"
        d.delete_branch(cfg, "snap")
        assert sorted(d.branches(cfg)) == [":db", ":feature"]
        with pytest.raises(d.NotFoundError):
            d.q(SKUS, [("branch:snap", cfg)])
        # The Database class.
        db = d.Database(cfg)
        assert db.commit_id() == d.commit_id(cfg)
        assert sorted(db.branches()) == [":db", ":feature"]
        assert db.merge_db(["feature"], [{"sku": "C"}]) == db.commit_id()
        assert db.branch_as_db("feature").q(SKUS) == ["B"]
    finally:
        d.delete_database(cfg)
