"""Issue 18, defect 2 (interchange.md): every admin CSV / XLSX download neutralises a text
cell a spreadsheet would run as a formula (a leading ``'``); numbers, negative amounts
included, stay numbers; the command-line interchange exports stay exact."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.spreadsheet import cell_safe
from orders.models import Invoice, InvoiceStatus
from tests.orders.test_billing_reconcile import bill, collect, licences
from tests.revenue.test_admin import HEADER

HYPERLINK = '=HYPERLINK("http://evil.example","click")'
ROWS = [
    # collected: its SO line id reaches the journal, its customer and item the reports
    'SO,A1,@SUM(1),,2026-01-01,,,,"=HYPERLINK(""http://evil.example"",""click"")",'
    "+Item,12,,1200,1200,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY",
    # stopped in staging (a bad amount): its raw TRAN_TYPE is what the staging export shows
    '"=HYPERLINK(""http://evil.example"",""click"")",B1,-B1-1,,2026-01-01,,,,Acme,Thing,1,,'
    "1O0,100,USD,USD,2026-01-01,2026-01-31,",
]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def cmd(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def staged(db, tmp_path):
    cmd("revenue_period", "open", "202601")
    path = tmp_path / "lines.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n")
    cmd("revenue_import", str(path))
    cmd("revenue_collect")


def body_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode())))


def xlsx_cells(content: bytes, sheet: int = 1) -> list[tuple[str, str]]:
    """Every cell of a sheet as (type, text): type "n" for a number, "s" for text."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        names = book.namelist()
        shared = []
        if "xl/sharedStrings.xml" in names:
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root]
        root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml"))
    cells = []
    for c in root.iter(f"{{{NS['m']}}}c"):
        kind = c.get("t", "n")
        if kind == "s":
            cells.append(("s", shared[int(c.find("m:v", NS).text)]))
        elif kind == "inlineStr":
            cells.append(("s", "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))))
        elif c.find("m:v", NS) is not None:
            cells.append((kind, c.find("m:v", NS).text))
    return cells


def test_cell_safe_prefixes_formula_text_and_leaves_numbers():
    """The one rule: text starting with = + - @ tab or CR gets a ', numbers never do."""
    for text in ("=1+1", "+1 555", "-A1", "@SUM(1)", "\tx", "\rx", HYPERLINK):
        assert cell_safe(text) == "'" + text
    for value in ("Acme", "", "A-1", "2026-01-01", "-300.00", "300.00", "-5", "+7"):
        assert cell_safe(value) == value
    assert cell_safe(Decimal("-300.00")) == Decimal("-300.00")
    assert cell_safe(-3) == -3 and cell_safe(None) is None


def test_staging_download_neutralises_formulas_and_the_command_stays_exact(staged, admin_client):
    """The Inbound screen's CSV: raw TRAN_TYPE and SO_LINE_ID that look like formulas get a
    '; ``revenue_export staging`` of the same lines keeps them as they were sent."""
    response = admin_client.get(reverse("admin:revenue_inboundline_export"))
    assert response.status_code == 200
    rows = body_rows(response)
    assert rows[2][1:3] == ["'" + HYPERLINK, "'-B1-1"]
    assert rows[1][2] == "'@SUM(1)"
    exact = list(csv.reader(io.StringIO(cmd("revenue_export", "staging"))))
    assert exact[1][2] == "@SUM(1)" and exact[2][1:3] == [HYPERLINK, "-B1-1"]
    assert [r[0] for r in exact] == [r[0] for r in rows]  # IDs stay numbers


def test_journal_download_neutralises_formulas_and_keeps_amounts(staged, admin_client):
    """The journal list's CSV: SO line "@SUM(1)" gets a '; DR and CR stay plain numbers;
    ``revenue_export journal`` keeps the line id exact."""
    rows = body_rows(admin_client.get(reverse("admin:revenue_journalentry_export")))
    assert rows[0][:2] == ["PERIOD", "SO_LINE_ID"]
    assert {r[1] for r in rows[1:]} == {"'@SUM(1)"}
    assert all(Decimal(r[5]) >= 0 and Decimal(r[6]) >= 0 for r in rows[1:])
    exact = list(csv.reader(io.StringIO(cmd("revenue_export", "journal"))))
    assert {r[1] for r in exact[1:]} == {"@SUM(1)"}
    assert [r[:1] + r[2:] for r in exact] == [r[:1] + r[2:] for r in rows]


@pytest.mark.parametrize("by", ["customer", "item"])
def test_report_downloads_neutralise_formulas_in_csv_and_xlsx(staged, admin_client, by):
    """A report's CSV and XLSX: the customer =HYPERLINK(...) and the item +Item get a ',
    amounts stay numbers (XLSX number cells)."""
    url = reverse("admin:report_download", args=["balances"])
    expected = "'" + (HYPERLINK if by == "customer" else "+Item")
    rows = body_rows(admin_client.get(url, {"format": "csv", "by": by}))
    assert rows[0][:4] == ["GROUP", "CURRENCY", "BILLED", "RECOGNIZED"]
    assert rows[1][:4] == [expected, "USD", "0.00", "100.00"]
    response = admin_client.get(url, {"format": "xlsx", "by": by})
    cells = xlsx_cells(response.content)
    assert ("s", expected) in cells
    assert ("n", "100") in cells
    assert not [text for kind, text in cells if kind == "s" and text.startswith(("=", "@", "+"))]


def test_reconcile_download_keeps_a_negative_difference_a_number(db, admin_client):
    """M5 in the admin: a voided invoice "=HYPERLINK(1)" still collected: difference -100.00
    stays a number in CSV and XLSX while the document number gets its '."""
    cmd("revenue_period", "open", "202603")
    voided = bill(licences())
    Invoice.objects.filter(pk=voided.pk).update(status=InvoiceStatus.VOID, revenue_batch_id=None)
    renamed = bill(licences())  # a number no sequence gives (imported data)
    Invoice.objects.filter(pk=renamed.pk).update(number="=HYPERLINK(1)")
    collect()
    url = reverse("admin:report_download", args=["billing-reconcile"])
    query = {"currency": "USD"}
    rows = body_rows(admin_client.get(url, {"format": "csv", **query}))
    first = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[1] == "1"}
    assert first[voided.number]["DIFFERENCE"] == "-100.00"
    assert first["'=HYPERLINK(1)"]["DIFFERENCE"] == "100.00"
    cells = xlsx_cells(admin_client.get(url, {"format": "xlsx", **query}).content)
    assert ("n", "-100") in cells
    assert ("s", "'=HYPERLINK(1)") in cells
