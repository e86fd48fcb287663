"""The seed example of the README in Python: the same steps and results as examples/c/seed.c.

    python3 -m pip install ./bindings/python && python3 examples/python/seed.py
"""

import datahike as d
from datahike import Keyword as K

CONFIG = {"store": {"backend": ":memory", "id": "seed"}, "keep-history?": True,
          "schema-flexibility": ":write"}
PEOPLE = "[:find ?e ?n ?a :where [?e :name ?n] [?e :age ?a]]"


def main() -> dict:
    d.create_database(CONFIG)
    try:
        with d.connect(CONFIG) as conn:
            conn.transact([
                {K("db/ident"): K("name"), K("db/valueType"): K("db.type/string"),
                 K("db/cardinality"): K("db.cardinality/one")},
                {K("db/ident"): K("age"), K("db/valueType"): K("db.type/long"),
                 K("db/cardinality"): K("db.cardinality/one")},
            ])
            report = conn.transact([{"name": "Alice", "age": 20}, {"name": "Bob", "age": 30},
                                    {"name": "Charlie", "age": 40}, {"age": 15}])
            print("report tx-data:", [tuple(x) for x in report["tx-data"]][1:3], "...")
            people = d.q(PEOPLE, conn.db())
            print("people:", sorted(people))
            conn.transact([{"db/id": 3, "age": 25}])
            db = conn.db()
            after = d.q(PEOPLE, db)
            print("after the update:", sorted(after))
            ages = d.q('[:find ?a :where [?e :name "Alice"] [?e :age ?a]]', db.history())
            print("Alice's ages in the history view:", sorted(ages))
            return {"report": report, "people": people, "after": after, "ages": ages}
    finally:
        d.delete_database(CONFIG)


if __name__ == "__main__":
    main()
    print("ok")
