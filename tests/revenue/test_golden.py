"""The golden corpus (issue 16, bench/golden.py): whole generated days of every mix, with the
contra profile Y and N, collected and two periods closed, must leave exactly the exports and
the month-end reports recorded in ``tests/golden`` (P1–P9, S1–S10, A1–A4, M1–M4), to the
cent, on SQLite and on PostgreSQL. A new collection engine passes this before it lands.

Run with ``make golden`` (``.ci/run`` runs it after ``make test`` on both databases);
``CONTRA_GOLDEN_WRITE=1 make golden`` writes the corpus instead of comparing (an intended
change of the ledger only).
"""

from __future__ import annotations

import os

import pytest

from bench.golden import (
    CASES,
    case_collect,
    case_digest,
    corpus_read,
    corpus_write,
    digest_differences,
)

WRITE = os.environ.get("CONTRA_GOLDEN_WRITE") == "1"
pytestmark = pytest.mark.golden  # make golden (about 3 min a database): not in make test


@pytest.mark.django_db
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_golden_day_leaves_the_recorded_ledger(case, tmp_path):
    case_collect(case, tmp_path)
    digest = case_digest(case)
    if WRITE:
        corpus_write(case, digest)
        return
    assert case.path.exists(), f"no corpus file {case.path.name}: write it (module docstring)"
    problems = digest_differences(corpus_read(case), digest)
    assert not problems, "the ledger moved:\n" + "\n".join(problems)
