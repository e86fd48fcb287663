"""The cost of small queries through the Python package, against the same calls as raw EDN text.

    python3 bindings/python/bench_overhead.py

Runs bench/bench_capi.cc's three queries on the same 1000-person db two ways: d.q (Python values
in and out: the arguments printed and the result read by the package) and the extension's raw
call (EDN text in and out, GIL released, nothing converted). Prints microseconds per call, the
best of many interleaved rounds (so that a busy machine disturbs both sides alike), and the
difference, which is what turning Python values into EDN and back costs. bench_capi prints the
same queries through datahike_q in C; d.q minus that is the whole cost of Python.
"""

import time

import datahike as d
from datahike import _datahike

CASES = [
    # name, query, the Python input after the db, the same input as an EDN args vector
    ("scalar-by-unique", "[:find ?a . :in $ ?n :where [?e :name ?n] [?e :age ?a]]", "p42",
     '["p42"]'),
    ("tuples-by-index", "[:find ?e ?n :in $ ?a :where [?e :age ?a] [?e :name ?n]]", 7, "[7]"),
    ("count-range", "[:find (count ?e) . :where [?e :age ?a] [(< ?a 3)]]", None, None),
]


def per_call_us(fns, n=200, rounds=150):
    """The best time per call of each function, in microseconds, over many short interleaved
    rounds: the best round is one the rest of the machine left alone."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / n)
    return [b * 1e6 for b in best]


def main():
    db = d.empty_db("{:name {:db/unique :db.unique/identity} :age {:db/index true}}")
    db = db.db_with([{"name": f"p{i}", "age": i % 100} for i in range(1000)])
    raw = db._h
    print(f"{'query':18} {'d.q us':>8} {'raw us':>8} {'d.q-raw us':>11}")
    for name, query, arg, args_edn in CASES:
        inputs = (db,) if arg is None else (db, arg)
        d.q(query, *inputs)  # warm the caches (the parsed query, keywords)

        def full():
            return d.q(query, *inputs)

        def text():
            return _datahike.q(query, [raw], args_edn, 0)

        full_us, text_us = per_call_us([full, text])
        print(f"{name:18} {full_us:8.2f} {text_us:8.2f} {full_us - text_us:11.2f}")


if __name__ == "__main__":
    main()
