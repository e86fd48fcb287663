import threading

import pytest

import datahike as d
from datahike import Keyword as K


def test_listen_and_unlisten(conn):
    seen = []
    key = conn.listen(seen.append)
    d.transact(conn, [{"name": "Dan", "age": 1}])
    conn.transact([{"name": "Eve", "age": 2}])
    assert len(seen) == 2
    r = seen[0]
    assert isinstance(r, d.TxReport)
    assert any(x.a == K("name") and x.v == "Dan" for x in r.tx_data)
    assert d.q("[:find ?a . :where [?e :name \"Dan\"] [?e :age ?a]]", seen[0].db_after) == 1
    # Each report carries its own transaction's values, kept after the callback returned.
    dan_eve = "[:find ?n :where [?e :name ?n] [(contains? #{\"Dan\" \"Eve\"} ?n)]]"
    assert d.q(dan_eve, seen[0].db_before) == set()
    assert d.q(dan_eve, seen[0].db_after) == {("Dan",)}
    assert d.q(dan_eve, seen[1].db_before) == {("Dan",)}
    assert d.q(dan_eve, seen[1].db_after) == {("Dan",), ("Eve",)}
    assert seen[1].db_after.commit_id() == seen[1].tx_meta[K("db/commitId")]
    d.unlisten(conn, key)
    conn.transact([{"name": "Fay"}])
    assert len(seen) == 2


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_listener_errors_do_not_break_transactions(conn):
    def bad(_report):
        raise RuntimeError("listener failure")

    key = conn.listen(bad)
    conn.transact([{"name": "Gil"}])
    assert d.q("[:find ?e . :where [?e :name \"Gil\"]]", conn.db()) is not None
    conn.unlisten(key)


def test_listener_from_other_connection_and_close(cfg, conn):
    seen = []
    with d.connect(cfg) as other:
        other.listen(seen.append)
        conn.transact([{"name": "Hal"}])
    # closing `other` removed its listener
    conn.transact([{"name": "Ivy"}])
    assert len(seen) == 1


def test_threads_query_while_transacting(conn):
    """Several Python threads query while one transacts: the GIL is released in engine calls."""
    stop = threading.Event()
    errors, counts = [], []

    def reader():
        n = 0
        try:
            while not stop.is_set():
                db = conn.db()
                r = d.q("[:find (count ?e) . :where [?e :age _]]", db)
                assert r >= 3
                n += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        counts.append(n)

    def writer():
        try:
            for i in range(200):
                conn.transact([{"name": f"w{i}", "age": i}])
        except Exception as e:  # pragma: no cover
            errors.append(e)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader) for _ in range(3)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert d.q("[:find (count ?e) . :where [?e :age _]]", conn.db()) == 203
    assert sum(counts) > 0


def test_gil_released_during_engine_call(conn):
    """A pure-Python thread keeps running while the main thread is inside long engine calls."""
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)

    db = conn.db()
    conn.transact([{"name": f"p{i}", "age": i} for i in range(2000)])
    db = conn.db()
    t = threading.Thread(target=ticker)
    t.start()
    try:
        for _ in range(20):
            d.q("[:find (count ?a) . :where [?a :age ?x] [?b :age ?y] [(< ?x 50)] [(< ?y 50)]]", db)
    finally:
        done.set()
        t.join()
    assert ticks
