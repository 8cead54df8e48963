"""V15 (INB-007) and V16 (INB-008), revenue.md and carve.md K1: SSP inputs that would make a
wrong carve stop the line in staging. Lines are staged with ``revenue_import``, collected
with ``revenue_collect`` and read back from the ``staging`` export and the staged rows.

SO line L-1 sells 1200 over 2026 at a list price of 1200; ``sold`` collects it (12 units)
without an SSP before the test stages a line that refers to it.
"""

from decimal import Decimal

import pytest

from revenue.models import InboundLine
from revenue.services.inbound import inbound_line_update
from tests.revenue.test_reductions import YEAR, book, row, so

V15, V16 = "INB-007", "INB-008"


@pytest.fixture
def january(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    return ledger


@pytest.fixture
def sold(january):
    """L-1 collected, without an SSP."""
    assert book(january, so("L-1", 1200, qty=12)) == "collected 1, stopped 0, waiting 0"
    return january


def staging(ledger) -> dict[str, dict]:
    """The ``staging`` export, by TRAN_TYPE and SO_LINE_ID."""
    return {(r["TRAN_TYPE"], r["SO_LINE_ID"]): r for r in ledger.export("staging")}


def codes(ledger, kind, line) -> list[str]:
    entry = staging(ledger)[(kind, line)]
    assert entry["STATUS"] == ("ERROR" if entry["ERROR_CODES"] else "COLLECTED")
    return entry["ERROR_CODES"].split(";") if entry["ERROR_CODES"] else []


def refusal(kind, line, code) -> dict:
    """The stored refusal of ``code`` on the staged line."""
    staged = InboundLine.objects.get(tran_type=kind, so_line_id=line)
    (found,) = [error for error in staged.errors if error["code"] == code]
    return found


def inv_with(line, inv_id, esp, **ssp) -> str:
    return row(
        tran_type="INV",
        so_num=line.split("-")[0],
        so_line_id=line,
        inv_num=inv_id.split("-")[0],
        inv_line_id=inv_id,
        inv_date="2026-01-05",
        item="Item",
        ord_qty=12,
        inv_qty=12,
        ext_lst_prc=esp,
        ext_sll_prc=esp,
        curr="USD",
        f_cur="USD",
        **ssp,
    )


def rord_with(rord_id, orig, esp, **ssp) -> str:
    return row(
        tran_type="RORD",
        so_num=rord_id.split("-")[0],
        so_line_id=rord_id,
        orig_so_line_id=orig,
        so_date="2026-07-01",
        item="Item",
        ord_qty=1,
        ext_lst_prc=esp,
        ext_sll_prc=esp,
        curr="USD",
        f_cur="USD",
        start_date="2026-07-01",
        end_date=YEAR[1],
        **ssp,
    )


# --- V15 -------------------------------------------------------------------------------------


def test_v15_negative_ssp_pct_is_stopped(january):
    """V15 INB-007: SSP_PCT −5 stops the SO line; the message names SSP_PCT and the value."""
    assert book(january, so("L-1", 1200, ssp_pct=-5)) == "collected 0, stopped 1, waiting 0"
    assert codes(january, "SO", "L-1") == [V15]
    error = refusal("SO", "L-1", V15)
    assert (error["rule"], error["field"]) == ("V15", "SSP_PCT")
    assert error["message"].startswith("INB-007: ")
    assert error["message"].endswith("SSP_PCT may not be negative: got -5")


def test_v15_negative_ssp_price_is_stopped(january):
    """V15 INB-007: SSP_PRICE −1.50 stops the SO line, naming SSP_PRICE."""
    assert book(january, so("L-1", 1200, ssp_price="-1.50")) == "collected 0, stopped 1, waiting 0"
    assert codes(january, "SO", "L-1") == [V15]
    error = refusal("SO", "L-1", V15)
    assert error["field"] == "SSP_PRICE"
    assert error["message"].endswith("SSP_PRICE may not be negative: got -1.5")


def test_v15_both_ssps_on_one_so_line_are_stopped(january, admin_user):
    """V15 INB-007: SSP_PCT and SSP_PRICE on one SO line stop it at collection (the
    staging row keeps both values as received), the message naming both fields and their
    values; an edit that drops one lets it through."""
    assert book(january, so("L-1", 1200, ssp_pct=80, ssp_price=12)) == (
        "collected 0, stopped 1, waiting 0"
    )
    assert codes(january, "SO", "L-1") == [V15]
    error = refusal("SO", "L-1", V15)
    assert (error["rule"], error["field"]) == ("V15", "SSP_PRICE")
    assert error["message"].endswith(
        "give SSP_PCT or SSP_PRICE, not both: got SSP_PCT 80 and SSP_PRICE 12"
    )
    line = InboundLine.objects.get(so_line_id="L-1")
    inbound_line_update(line=line, changes={"ssp_price": None}, actor=admin_user)
    assert january.collect().strip() == "collected 1, stopped 0, waiting 0"


def test_v15_every_failure_is_in_its_one_refusal(january, admin_user):
    """V15: a line with both SSPs, both negative, has one INB-007 saying all three."""
    book(january, so("L-1", 1200, ssp_pct=-5))
    assert codes(january, "SO", "L-1") == [V15]
    line = InboundLine.objects.get(so_line_id="L-1")
    inbound_line_update(line=line, changes={"ssp_price": Decimal("-2")}, actor=admin_user)
    january.collect()
    assert codes(january, "SO", "L-1") == [V15]
    message = refusal("SO", "L-1", V15)["message"]
    assert "SSP_PCT may not be negative: got -5" in message
    assert "SSP_PRICE may not be negative: got -2" in message
    assert "not both: got SSP_PCT -5 and SSP_PRICE -2" in message


# --- V16 -------------------------------------------------------------------------------------


def test_v16_ssp_pct_on_an_so_line_without_a_list_price_is_stopped(january):
    """V16 INB-008: SSP_PCT with EXT_LST_PRC 0 is stopped; SSP_PRICE on the same kind of
    line (no list price) is collected."""
    assert book(
        january, so("L-1", 1200, elp=0, ssp_pct=50), so("L-2", 1200, elp=0, ssp_price=10)
    ) == ("collected 1, stopped 1, waiting 0")
    assert codes(january, "SO", "L-1") == [V16]
    assert codes(january, "SO", "L-2") == []
    error = refusal("SO", "L-1", V16)
    assert (error["rule"], error["field"]) == ("V16", "SSP_PCT")
    assert error["message"].endswith(
        "SSP_PCT needs a list price: got SSP_PCT 50 with EXT_LST_PRC 0"
    )


def test_v16_ssp_pct_with_the_list_price_missing_lists_v1_too(january):
    """V16 INB-008: EXT_LST_PRC missing counts as no list price; V1 lists the field too."""
    line = so("L-1", 1200, ssp_pct=50).replace(",1200,1200,", ",,1200,")
    book(january, line)
    assert codes(january, "SO", "L-1") == ["INB-001", V16]
    assert refusal("SO", "L-1", V16)["message"].endswith("with EXT_LST_PRC missing")


def test_v16_an_ssp_on_a_rord_is_stopped(sold):
    """V16 INB-008: only SO lines carry an SSP; a RORD with SSP_PCT is stopped."""
    assert book(sold, rord_with("R-1", "L-1", -100, ssp_pct=80)) == (
        "collected 0, stopped 1, waiting 0"
    )
    assert codes(sold, "RORD", "R-1") == [V16]
    error = refusal("RORD", "R-1", V16)
    assert error["field"] == "SSP_PCT"
    assert error["message"].endswith(
        "only SO lines carry an SSP: got SSP_PCT 80 with TRAN_TYPE RORD"
    )


def test_v16_an_ssp_on_an_inv_is_stopped(sold):
    """V16 INB-008: an INV line with SSP_PRICE is stopped, naming SSP_PRICE."""
    assert book(sold, inv_with("L-1", "I-1", 1200, ssp_price=10)) == (
        "collected 0, stopped 1, waiting 0"
    )
    assert codes(sold, "INV", "L-1") == [V16]
    error = refusal("INV", "L-1", V16)
    assert error["field"] == "SSP_PRICE"
    assert error["message"].endswith(
        "only SO lines carry an SSP: got SSP_PRICE 10 with TRAN_TYPE INV"
    )


# --- accepted, switched off ------------------------------------------------------------------


def test_v15_v16_a_valid_so_line_with_ssp_pct_is_collected(january):
    """An SO line with a list price and SSP_PCT 80 passes V15 and V16."""
    assert book(january, so("L-1", 1200, ssp_pct=80)) == "collected 1, stopped 0, waiting 0"
    assert codes(january, "SO", "L-1") == []
    lines = {r["SO_LINE_ID"]: r for r in january.export("lines")}
    assert lines["L-1"]["EXT_SSP"] not in ("", None)


def test_v15_switched_off_lets_the_line_through(january):
    """V15 can be disabled: the stopped line is retried and collected."""
    book(january, so("L-1", 1200, ssp_price="-1"))
    assert codes(january, "SO", "L-1") == [V15]
    january.cmd("revenue_rule", V15, "--disable")
    assert january.collect().strip().splitlines()[-1] == "collected 1, stopped 0, waiting 0"
    assert codes(january, "SO", "L-1") == []


def test_v16_switched_off_lets_the_line_through(sold):
    """V16 can be disabled: a RORD carrying an SSP is then collected."""
    book(sold, rord_with("R-1", "L-1", -100, ssp_pct=80))
    assert codes(sold, "RORD", "R-1") == [V16]
    sold.cmd("revenue_rule", V16, "--disable")
    assert sold.collect().strip().splitlines()[-1] == "collected 1, stopped 0, waiting 0"
    assert codes(sold, "RORD", "R-1") == []
