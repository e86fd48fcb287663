"""Misuse never crashes: every bad input gives a typed exception."""

import pytest

import datahike as d
from datahike import Keyword as K


def test_closed_connection(conn):
    conn.close()
    conn.close()  # idempotent
    assert conn.closed
    for call in (conn.db, lambda: conn.transact([{"name": "X"}]), lambda: conn.listen(print)):
        with pytest.raises(d.MisuseError) as e:
            call()
        assert e.value.kind == K("misuse") and isinstance(e.value, d.DatahikeError)


def test_released_db(conn):
    db = conn.db()
    db.release()
    for call in (lambda: d.q("[:find ?e :where [?e _ _]]", db), lambda: db.pull("[*]", 1),
                 lambda: db.as_of(1), db.history, db.schema, lambda: db.datoms(K("eavt"))):
        with pytest.raises(d.MisuseError):
            call()


def test_malformed_text(conn):
    db = conn.db()
    with pytest.raises(d.ParseError) as e:
        d.q("[:find ?e :where [?e", db)
    assert e.value.kind == K("parse/error") and e.value.message
    with pytest.raises(d.ParseError):
        conn.transact("[{:name }")
    with pytest.raises(d.ParseError):
        d.create_database("{:store")
    with pytest.raises(d.ParseError):
        d.q("[:find ?e :where [?e :name \"a\0b\"]]", db)
    with pytest.raises(d.ParseError):
        d.lowlevel.transact(conn.config, '[{"name": ', input_format="json")


def test_bad_queries_and_attributes(conn):
    db = conn.db()
    with pytest.raises(d.QueryError):
        d.q("[:find ?x :where [?e :name ?n]]", db)
    with pytest.raises(d.SchemaError) as e:
        conn.transact([{"unknown-attr": 1}])
    assert e.value.kind == K("schema/violation")
    with pytest.raises(d.DatahikeError):
        conn.transact([{"name": 42}])
    with pytest.raises(d.TransactionError):
        conn.transact([[K("db/cas"), [K("name"), "Alice"], K("age"), 1, 2]])
    with pytest.raises(d.DatahikeError):
        db.as_of(K("not-a-time"))


def test_bad_configs(cfg):
    with pytest.raises(d.MisuseError):
        d.create_database({"store": {"backend": ":memory", "id": "x"}, "bogus-key": 1})
    with pytest.raises(d.DatahikeError):
        d.create_database({"store": {"backend": ":no-such-backend"}})
    with pytest.raises(TypeError):
        d.create_database(42)


def test_wrong_python_types(conn):
    db = conn.db()
    with pytest.raises(TypeError):
        d.q("[:find ?e :in $ ?x :where [?e :name ?x]]", db, object())
    with pytest.raises(TypeError):
        conn.transact([{"name": object()}])
    with pytest.raises(TypeError):
        db.as_of(True)
    with pytest.raises(TypeError):
        db.datoms(42)
    with pytest.raises(d.QueryError):
        d.q(None, db)
    with pytest.raises(TypeError):
        d.Keyword(5)


def test_unlisten_unknown_key(conn):
    with pytest.raises(d.NotFoundError):
        conn.unlisten(12345)


def test_error_fields(conn):
    try:
        conn.transact([{"unknown-attr": 1}])
    except d.DatahikeError as e:
        assert isinstance(e.kind, K) and isinstance(e.message, str)
        assert str(e).startswith(":schema/violation")
        assert e.data is None or isinstance(e.data, dict)
    assert d.DatahikeException is d.DatahikeError
    assert d.errors.ERROR_CLASSES[":query/error"] is d.QueryError
    err = d.errors.error_from_native(9, '{:error/kind :some/new-kind :message "m" :data {:x 1}}')
    assert type(err) is d.DatahikeError and err.kind == K("some/new-kind")
    assert err.data == {K("x"): 1}
