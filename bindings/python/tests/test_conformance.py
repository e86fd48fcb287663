"""The whole shared conformance corpus through the Python package (see conformance_driver.py)."""

import io

import pytest

import conformance_driver as driver


def test_conformance_corpus():
    directory = driver.shared_dir() / "conformance"
    if not directory.is_dir():
        pytest.skip(f"no conformance corpus at {directory} (set DATAHIKE_SHARED_DIR)")
    out = io.StringIO()
    totals = driver.run_all(directory, out=out)
    print(out.getvalue())
    assert totals["passed"] > 0
    assert totals["unexpected"] == [], out.getvalue()
