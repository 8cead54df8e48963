"""The spec's revenue vectors (RV1–RV4, test_vectors) kept whole for issue 16: after each
vector's steps every export (journal, schedule, lines, staging) and the month-end reports
must be exactly what ``tests/golden/vectors/<vector>.json`` records, on SQLite and
PostgreSQL. The vector tests assert the spec's figures; this holds every other row still.

``CONTRA_GOLDEN_WRITE=1`` writes the files instead of comparing (an intended change only).
"""

from __future__ import annotations

import inspect
import os

import pytest

from bench.golden import ledger_whole, vector_path, vector_read, vector_write, whole_differences
from tests.revenue import test_vectors
from tests.revenue.conftest import Ledger

WRITE = os.environ.get("CONTRA_GOLDEN_WRITE") == "1"
VECTORS = [
    function
    for name, function in inspect.getmembers(test_vectors, inspect.isfunction)
    if name.startswith("test_rv") and list(inspect.signature(function).parameters) == ["ledger"]
]


@pytest.mark.django_db
@pytest.mark.parametrize("vector", VECTORS, ids=lambda function: function.__name__[5:])
def test_vector_leaves_the_recorded_ledger(vector, tmp_path):
    name = vector.__name__[5:]
    vector(Ledger(tmp_path))
    found = ledger_whole()
    if WRITE:
        vector_write(name, found)
        return
    assert vector_path(name).exists(), f"no {vector_path(name).name}: write it (docstring)"
    problems = whole_differences(vector_read(name), found)
    assert not problems, "the ledger moved:\n" + "\n".join(problems)
