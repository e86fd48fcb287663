import itertools
import os
import sys
from pathlib import Path

import pytest

import datahike as d
from datahike import Keyword as K

sys.path.insert(0, str(Path(__file__).parent))
_ids = itertools.count()

SCHEMA = [
    {"db/ident": K("name"), "db/valueType": K("db.type/string"),
     "db/cardinality": K("db.cardinality/one"), "db/unique": K("db.unique/identity")},
    {"db/ident": K("age"), "db/valueType": K("db.type/long"),
     "db/cardinality": K("db.cardinality/one"), "db/index": True},
    {"db/ident": K("friend"), "db/valueType": K("db.type/ref"),
     "db/cardinality": K("db.cardinality/many")},
]


@pytest.fixture
def cfg():
    """A fresh in-memory config; the database is deleted after the test."""
    c = {"store": {"backend": ":memory", "id": f"pytest-{os.getpid()}-{next(_ids)}"},
         "keep-history?": True}
    yield c
    d.delete_database(c)


@pytest.fixture
def conn(cfg):
    d.create_database(cfg)
    with d.connect(cfg) as c:
        c.transact(SCHEMA)
        c.transact([{"name": "Alice", "age": 30}, {"name": "Bob", "age": 25,
                                                   "friend": [[K("name"), "Alice"]]},
                    {"name": "Charlie", "age": 40}])
        yield c
