"""The seed README example in Python gives the results of examples/c/seed.c."""

import runpy
from pathlib import Path

from datahike import Keyword as K

SEED = Path(__file__).resolve().parents[3] / "examples" / "python" / "seed.py"


def test_seed_example():
    res = runpy.run_path(str(SEED))["main"]()
    assert (3, K("name"), "Alice", 536870914, True) in [tuple(x) for x in res["report"].tx_data]
    assert res["people"] == {(3, "Alice", 20), (4, "Bob", 30), (5, "Charlie", 40)}
    assert res["after"] == {(3, "Alice", 25), (4, "Bob", 30), (5, "Charlie", 40)}
    assert res["ages"] == {(20,), (25,)}
