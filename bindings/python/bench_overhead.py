"""The cost of one small query through the Python package, against the same call through the C ABI.

    python3 bindings/python/bench_overhead.py

Runs bench/bench_capi.cc's "scalar-by-unique" case ([:find ?a . :in $ ?n :where [?e :name ?n]
[?e :age ?a]] with "p42" on the same 1000-person db) two ways: d.q (the argument printed and the
result read as EDN in Python) and the raw extension call (EDN text in and out, GIL released).
Prints microseconds per call (best of 5); bench_capi gives the same query through datahike_q in C.
"""

import time

import datahike as d
from datahike import _datahike

QUERY = "[:find ?a . :in $ ?n :where [?e :name ?n] [?e :age ?a]]"


def per_call_us(fn, n=20000):
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def main():
    # The data and query of bench/bench_capi.cc's "scalar-by-unique" case.
    db = d.empty_db("{:name {:db/unique :db.unique/identity} :age {:db/index true}}")
    db = db.db_with([{"name": f"p{i}", "age": i % 100} for i in range(1000)])
    assert d.q(QUERY, db, "p42") == 42
    raw = db._h
    full = per_call_us(lambda: d.q(QUERY, db, "p42"))
    native = per_call_us(lambda: _datahike.q(QUERY, [raw], '["p42"]', 0))
    print(f"d.q (Python values in and out): {full:.2f} us/call")
    print(f"_datahike.q (EDN text in and out): {native:.2f} us/call")
    print(f"Python value conversion: {full - native:.2f} us/call")


if __name__ == "__main__":
    main()
