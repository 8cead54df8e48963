"""I1, I2, I6–I9 under bad input: thousands of malformed rows through every door.

Each door gets files (or service calls) of 50–100 fuzzed rows: wrong types, odd and huge
numbers, bad dates, NUL bytes, lone surrogates, RTL and emoji, long fields, extra and
missing values, duplicated columns, injection strings, broken encodings, empty and
header-only files. What must hold, whatever the door:

- no exception escapes (a whole file that is not CSV/JSON is refused in one line, exit 2
  for the command, a form error for the upload, and nothing is staged);
- every row that is a row becomes one staged line, in order, with the raw row as received;
- a bad value stops its line with INB-000 naming the column; good values are never
  blamed and good rows in the same file are staged untouched;
- the collection that follows never raises, leaves no fuzzed line new, stops each bad
  line with its codes and collects the good rows.
"""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revenue.models import InboundBatch

from .inbound_cases import Row, fuzz_row, good_row, not_an_object
from .inbound_checks import (
    check_collected,
    check_outcome,
    check_staged,
    door_command,
    door_file,
    door_service,
    door_upload,
)
from .inbound_files import Fed, _marked, inbound_file

FUZZ = settings(
    max_examples=30,
    deadline=None,
    # db, tmp_path, the client and the tally are shared by the examples on purpose (see
    # the ``tally`` fixture); big examples are the point here
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
MINIMUM_ROWS = 1000  # the service door: every example is 50–100 rows
# file doors: all 30 examples ran (lower FUZZ's max_examples and this fails), and each file
# with rows has 50–100 of them (a refused file has none)
MINIMUM_FILES, ROWS_PER_FILE = 30, 50


def _file_volume(tally) -> None:
    tally.minimum_files, tally.rows_per_file = MINIMUM_FILES, ROWS_PER_FILE


def _fed_and_collected(outcome, fed: Fed, before: int, tally) -> None:
    check_outcome(outcome, fed, before)
    tally["files"] += 1
    tally["refused"] += bool(fed.refused)
    tally["rows"] += len(fed.rows)
    tally["files with rows"] += bool(fed.rows)
    if outcome.batch is not None:
        check_collected([(outcome.batch, fed.rows)])


@FUZZ
@given(
    rows=st.lists(
        st.one_of(fuzz_row(typed=True, service=True), not_an_object(service=True)),
        min_size=50,
        max_size=100,
    )
)
def test_i1_i2_service_door_stages_every_row_and_collection_stops_the_bad(rows, open_period, tally):
    """``inbound_stage(rows=...)``: Python values of any type, and rows that are not
    objects."""
    tally.minimum = MINIMUM_ROWS
    rows = _marked(rows)
    outcome = door_service(rows)
    _fed_and_collected(outcome, Fed(b"", "", rows), 0, tally)


@FUZZ
@given(fed=inbound_file())
def test_i1_i2_file_door_stages_every_row_or_refuses_the_file(fed, open_period, tally):
    """``inbound_file_stage`` (the one reader behind the upload and the command)."""
    _file_volume(tally)
    before = InboundBatch.objects.count()
    _fed_and_collected(door_file(fed), fed, before, tally)


@FUZZ
@given(fed=inbound_file())
def test_i1_i2_revenue_import_stages_every_row_or_exits_2(fed, open_period, tally, tmp_path):
    """``manage.py revenue_import PATH``: the summary line names the batch; a refusal is a
    CommandError with exit code 2 (interchange.md)."""
    _file_volume(tally)
    before = InboundBatch.objects.count()
    _fed_and_collected(door_command(fed, tmp_path), fed, before, tally)


@FUZZ
@given(fed=inbound_file())
def test_i1_i2_admin_upload_stages_every_row_or_shows_the_refusal(
    fed, open_period, tally, admin_client
):
    """*Inbound lines › Upload*: a redirect to the new batch, or the form again with the
    refusal on the file field; never a 500."""
    _file_volume(tally)
    before = InboundBatch.objects.count()
    _fed_and_collected(door_upload(admin_client, fed), fed, before, tally)


@pytest.mark.parametrize("door", ["service", "file"])
def test_i2_one_good_row_among_bad_ones_is_staged_and_collected(door, open_period):
    """The properties the fuzzing relies on, on fixed rows: bad values named, the good row
    staged untouched and collected."""
    rows = _marked(
        [
            Row(cells={"TRAN_TYPE": "SO", "EXT_SLL_PRC": "1,000.00"}, bad={"EXT_SLL_PRC"}),
            good_row(),
            Row(cells={"TRAN_TYPE": "XX", "SO_DATE": "2026-02-30"}, bad={"TRAN_TYPE", "SO_DATE"}),
        ]
    )
    if door == "service":
        batch = door_service(rows).batch
    else:
        given = sorted({c for r in rows for c in r.cells} - {"ROW_ID", "TRAN_TYPE"})
        columns = ["ROW_ID", "TRAN_TYPE", *given]
        out = io.StringIO()
        csv.writer(out).writerows([columns, *([r.cells.get(c, "") for c in columns] for r in rows)])
        batch = door_file(Fed(out.getvalue().encode(), "fixed.csv", rows)).batch
    check_staged(batch, rows)
    check_collected([(batch, rows)])
