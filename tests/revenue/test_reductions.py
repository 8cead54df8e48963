"""P1–P5: how a RORD or a CM-R reverses its SO line's schedule, and the validations that
guard a reduction (V9, V10, V13), driven through the management commands.

The row builders at the top are shared with the contra, allocation and property tests.
"""

from decimal import Decimal

from revenue.models import InboundLine, JournalEntry, ScheduleRow, SoLine
from tests.revenue.conftest import D

HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,"
    "ORD_QTY,INV_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,RC_KEY,"
    "SSP_PCT,SSP_PRICE"
)
COLUMNS = HEADER.split(",")
YEAR = ("2026-01-01", "2026-12-31")


def row(**values) -> str:
    """One CSV row of ``COLUMNS``; keyword names are the column names in lower case."""
    known = {c.lower() for c in COLUMNS}
    unknown = set(values) - known
    assert not unknown, unknown
    return ",".join(
        "" if values.get(c.lower()) is None else str(values[c.lower()]) for c in COLUMNS
    )


def so(line, esp, *, start=YEAR[0], end=YEAR[1], method="RATABLE_MONTHLY", qty=1, elp=None, **kw):
    """An SO line; SO_NUM is the part of the id before the dash."""
    return row(
        tran_type="SO",
        so_num=kw.pop("so_num", line.split("-")[0]),
        so_line_id=line,
        so_date=start,
        item="Item",
        ord_qty=qty,
        ext_lst_prc=esp if elp is None else elp,
        ext_sll_prc=esp,
        curr=kw.pop("curr", "USD"),
        f_cur="USD",
        start_date=start,
        end_date=end,
        rev_method=method,
        **kw,
    )


def bill(kind, line, inv_id, esp, *, qty=1, start=None, end=None, day="2026-01-05"):
    """An INV, CM or CM-R line of SO line ``line``."""
    return row(
        tran_type=kind,
        so_num=line.split("-")[0],
        so_line_id=line,
        inv_num=inv_id.split("-")[0],
        inv_line_id=inv_id,
        inv_date=day,
        item="Item",
        ord_qty=qty,
        inv_qty=qty,
        ext_lst_prc=esp,
        ext_sll_prc=esp,
        curr="USD",
        f_cur="USD",
        start_date=start,
        end_date=end,
    )


def inv(line, inv_id, esp, **kw):
    return bill("INV", line, inv_id, esp, **kw)


def cm_r(line, inv_id, esp, **kw):
    return bill("CM-R", line, inv_id, esp, **kw)


def rord(rord_id, orig, esp, *, start, end, qty=1, elp=None, curr="USD"):
    """A RORD ``rord_id`` reducing SO line ``orig`` (ESP and ELP negative)."""
    return row(
        tran_type="RORD",
        so_num=rord_id.split("-")[0],
        so_line_id=rord_id,
        orig_so_line_id=orig,
        so_date=start,
        item="Item",
        ord_qty=qty,
        ext_lst_prc=esp if elp is None else elp,
        ext_sll_prc=esp,
        curr=curr,
        f_cur="USD",
        start_date=start,
        end_date=end,
    )


def cm_ro(rord_id, orig, inv_id, esp, *, qty=1, day="2026-01-20"):
    """The credit memo of RORD ``rord_id`` (its SO_LINE_ID) on SO line ``orig``."""
    return row(
        tran_type="CM-RO",
        so_num=rord_id.split("-")[0],
        so_line_id=rord_id,
        orig_so_line_id=orig,
        inv_num=inv_id.split("-")[0],
        inv_line_id=inv_id,
        inv_date=day,
        item="Item",
        inv_qty=qty,
        ext_sll_prc=esp,
        curr="USD",
        f_cur="USD",
    )


def book(ledger, *rows) -> str:
    """Stage the rows as one file and collect; the command's last line."""
    ledger.stage(HEADER + "\n" + "\n".join(rows))
    return ledger.collect().strip().splitlines()[-1]


def sched(ledger, line="L-1") -> dict:
    """(period, source) → net amount of one line (zero nets left out)."""
    return {(p, s): a for (lid, p, s), a in ledger.schedule().items() if lid == line}


def lines(ledger) -> dict:
    return {r["SO_LINE_ID"]: r for r in ledger.export("lines")}


def reversal_rows(line="L-1") -> list:
    return list(
        ScheduleRow.objects.filter(line__so_line_id=line, kind="REVERSAL")
        .order_by("period", "source")
        .values_list("period", "source", "amount")
    )


def months(first: int, last: int, amount) -> dict:
    return {(202600 + m, "SO"): D(amount) for m in range(first, last + 1)}


CL, REV, AR = "CONTRACT_LIABILITY", "REVENUE", "AR"


# --- P1 --------------------------------------------------------------------------------------


def test_p1_every_row_and_entry_of_a_reduction_belongs_to_the_original_so_line(ledger):
    """P1: the schedule rows and journal entries a RORD and a CM-R book are the original SO
    line's; the RORD's own SO_LINE_ID never becomes an SO line. (The CM-R is collected
    first, I7: the RORD is for the 11 units left, V14.)"""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), so("L-2", 600), inv("L-1", "I-1", 1200, qty=12))
    assert book(
        ledger,
        rord("R-1", "L-1", -300, start="2026-07-01", end="2026-09-30", qty=11),
        cm_r("L-1", "CR-1", -100, qty=1),
    ) == ("collected 2, stopped 0, waiting 0")
    original = SoLine.objects.get(so_line_id="L-1")
    assert not SoLine.objects.filter(so_line_id="R-1").exists()
    for tran_type in ("RORD", "CM-R"):
        staged = InboundLine.objects.get(tran_type=tran_type)
        assert staged.line_id == original.pk
        rows = ScheduleRow.objects.filter(inbound_line_id=staged.pk)
        entries = JournalEntry.objects.filter(inbound_line_id=staged.pk)
        assert rows.exists() and entries.exists()
        assert set(rows.values_list("line_id", flat=True)) == {original.pk}
        assert set(entries.values_list("line_id", flat=True)) == {original.pk}
    assert sched(ledger, "L-2") == months(1, 12, 50)  # the other line is untouched


# --- P2 --------------------------------------------------------------------------------------


def _p2_contract(ledger):
    """L-1 1200 over 2026 billed in full, L-2 400 one-time; both with SSP 100 %; open
    period April 2026 (Jan–Mar closed)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(
        ledger,
        so("L-1", 1200, qty=12, ssp_pct=100),
        so(
            "L-2",
            400,
            elp=600,
            start="2026-01-15",
            end="2026-01-15",
            method="IMMEDIATE",
            ssp_pct=100,
        ),
        inv("L-1", "I-1", 1200, qty=12),
    )
    ledger.cmd("revenue_period", "close", "--through", "202603")


def test_p2_full_reduction_reverses_every_deferred_row_in_its_own_period(ledger):
    """P2 (A = N = 1200, open period 202604): May–Dec's 100 each are reversed in their own
    periods, the 400 recognized (Jan–Apr) in the open period; INV source (billed)."""
    _p2_contract(ledger)
    assert book(
        ledger, rord("R-1", "L-1", -1200, start="2026-04-01", end="2026-12-31", qty=12)
    ) == ("collected 1, stopped 0, waiting 0")
    assert reversal_rows() == [(202604, "INV", D(-400))] + [
        (202600 + m, "INV", D(-100)) for m in range(5, 13)
    ]
    assert sched(ledger) == {
        (202601, "INV"): D(100),
        (202602, "INV"): D(100),
        (202603, "INV"): D(100),
        (202604, "INV"): D(-300),
    }
    nets = ledger.nets(period_from=202604)
    assert {k: v for k, v in nets.items() if k[1] in (CL, REV)} == {
        (202604, CL): D(-300),
        (202604, REV): D(300),
    }
    # carve.md K6 (closed revenue given back): the carve of both lines undone in 202604
    # (L-1's −44.44 booked through April, L-2's 133.33 of January: −100.00 net)
    assert {k: v for k, v in nets.items() if k[1] not in (CL, REV)} == {
        (202604, "ADJ_LIABILITY"): D(-100),
        (202604, "ADJ_REVENUE"): D(100),
    }
    # the scheduled reversals are posted when their periods close (S2)
    future = JournalEntry.objects.filter(entry_type="REVERSAL", period__gt=202604)
    assert future.count() == 8 and not future.filter(posted=True).exists()
    assert not JournalEntry.objects.filter(period__lt=202604, posted=False).exists()


def test_p2_full_reduction_sets_the_return_flag_and_empties_amounts_and_ssp(ledger):
    """P2: return flag Y; RECOGNIZED / DEFERRED / ALLOCATABLE and EXT_SSP / ALLOCATED /
    CARVE empty; the contract is reallocated without the line (A3: L-2 alone gets Σ ESP)."""
    _p2_contract(ledger)
    before = lines(ledger)
    assert [before["L-1"][k] for k in ("EXT_SSP", "ALLOCATED", "CARVE")] == [
        "1200.00",
        "1066.67",
        "-133.33",
    ]
    assert [before["L-2"][k] for k in ("EXT_SSP", "ALLOCATED", "CARVE")] == [
        "600.00",
        "533.33",
        "133.33",
    ]
    book(ledger, rord("R-1", "L-1", -1200, start="2026-04-01", end="2026-12-31", qty=12))
    after = lines(ledger)
    assert after["L-1"] == {
        "SO_LINE_ID": "L-1",
        "RC_KEY": "L",
        "CURRENCY": "USD",
        "EXT_SLL_PRC": "0.00",
        "ALLOCATABLE": "",
        "RECOGNIZED": "",
        "DEFERRED": "",
        "RETURN_FLAG": "Y",
        "EXT_SSP": "",
        "ALLOCATED": "",
        "CARVE": "",
        "HOLD": "N",
        "CARVE_RECOGNIZED": "",
        "CARVE_DEFERRED": "",
        "TREATMENT": "",
    }
    assert [after["L-2"][k] for k in ("EXT_SSP", "ALLOCATED", "CARVE")] == [
        "600.00",
        "400.00",
        "0.00",
    ]
    line = SoLine.objects.get(so_line_id="L-1")
    assert (line.ssp_pct, line.ssp_price, line.ext_ssp, line.allocated, line.carve) == (None,) * 5
    assert line.net_sll_prc == 0 and line.is_returned


def test_p2_full_reduction_of_what_remains_after_a_partial_one(ledger):
    """P2 with N = the remaining net sell price: 1200 − 300 = 900, a RORD of 900 is full."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    assert lines(ledger)["L-1"]["RETURN_FLAG"] == "N"
    assert book(ledger, rord("R-2", "L-1", -900, start="2026-01-01", end="2026-09-30")) == (
        "collected 1, stopped 0, waiting 0"
    )
    assert sched(ledger) == {} and lines(ledger)["L-1"]["RETURN_FLAG"] == "Y"
    assert ledger.nets() == {}


# --- P3 --------------------------------------------------------------------------------------


def test_p3_partial_reduction_comes_off_the_future_periods_its_dates_cover(ledger):
    """P3 (monthly, A = 300 ≤ D = 1100): July–September lose their 100 each; return flag N,
    recognized / deferred follow from the new schedule."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, start="2026-07-01", end="2026-09-30"))
    assert sched(ledger) == months(1, 6, 100) | months(10, 12, 100)
    line = lines(ledger)["L-1"]
    assert [line[k] for k in ("EXT_SLL_PRC", "ALLOCATABLE", "RECOGNIZED", "DEFERRED")] == [
        "900.00",
        "900.00",
        "100.00",
        "800.00",
    ]
    assert line["RETURN_FLAG"] == "N"
    assert ledger.nets(period_from=202607, period_to=202609) == {}  # release and reversal


def test_p3_the_covered_periods_are_weighed_with_the_line_s_method(ledger):
    """P3: 300 over 17 March – 15 April (15 days each side). RATABLE_DAILY weighs days:
    150 / 150; RATABLE_MONTHLY weighs month fractions 15/31 and 15/30: 147.54 / 152.46
    (each period holds more than its share)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("D-1", 3650, method="RATABLE_DAILY"), so("M-1", 12000))
    book(
        ledger,
        rord("RD-1", "D-1", -300, start="2026-03-17", end="2026-04-15"),
        rord("RM-1", "M-1", -300, start="2026-03-17", end="2026-04-15"),
    )
    assert reversal_rows("D-1") == [(202603, "SO", D(-150)), (202604, "SO", D(-150))]
    assert reversal_rows("M-1") == [(202603, "SO", D("-147.54")), (202604, "SO", D("-152.46"))]
    daily = sched(ledger, "D-1")
    assert (daily[(202603, "SO")], daily[(202604, "SO")]) == (D(160), D(150))
    assert sum(daily.values()) == D(3350)


def test_p3_what_the_covered_periods_cannot_hold_comes_off_the_latest_first(ledger):
    """P3: 500 for Nov–Dec, which hold 100 each: 200 there, then Oct, Sep, Aug (latest
    first) lose their 100 each."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -500, start="2026-11-01", end="2026-12-31"))
    assert sched(ledger) == months(1, 7, 100)
    assert [r[:2] for r in reversal_rows()] == [(202600 + m, "SO") for m in range(8, 13)]


def test_p3_reduction_dated_outside_the_line_comes_off_the_latest_periods(ledger):
    """P3: a RORD dated in 2027 covers no period of the line: Dec, Nov, Oct lose 100 each."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, start="2027-01-01", end="2027-03-31"))
    assert sched(ledger) == months(1, 9, 100)


def test_p3_more_than_deferred_reduces_recognized_revenue_in_the_open_period(ledger):
    """P3 (A = 500 > D = 200, open period 202610): Nov and Dec are reversed in their own
    periods, the other 300 comes off recognized revenue in October."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", 1200))
    ledger.cmd("revenue_period", "close", "--through", "202609")
    book(ledger, rord("R-1", "L-1", -500, start="2026-10-01", end="2026-12-31"))
    assert reversal_rows() == [
        (202610, "INV", D(-300)),
        (202611, "INV", D(-100)),
        (202612, "INV", D(-100)),
    ]
    assert ledger.nets(period_from=202610) == {(202610, CL): D(-200), (202610, REV): D(200)}
    line = lines(ledger)["L-1"]
    assert [line[k] for k in ("EXT_SLL_PRC", "RECOGNIZED", "DEFERRED", "RETURN_FLAG")] == [
        "700.00",
        "700.00",
        "0.00",
        "N",
    ]


# --- P4 --------------------------------------------------------------------------------------


def test_p4_invoice_source_is_reversed_before_so_source_inside_a_period(ledger):
    """P4: a half-billed line has 50 INV + 50 SO each month; 80 off December takes the 50
    INV first, then 30 SO. The journal reversal pairs carry the same sources."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", 600))
    assert sched(ledger)[(202612, "INV")] == D(50)
    book(ledger, rord("R-1", "L-1", -80, start="2026-12-01", end="2026-12-31"))
    assert reversal_rows() == [(202612, "INV", D(-50)), (202612, "SO", D(-30))]
    schedule = sched(ledger)
    assert (202612, "INV") not in schedule and schedule[(202612, "SO")] == D(20)
    reversals = JournalEntry.objects.filter(entry_type="REVERSAL").order_by("source_type")
    assert [
        (e.period, e.source_type, e.dr_account, e.cr_account, e.amount.amount) for e in reversals
    ] == [
        (202612, "INV", REV, CL, D(50)),
        (202612, "SO", REV, CL, D(30)),
    ]


# --- P5 --------------------------------------------------------------------------------------


def test_p5_partial_return_reverses_like_a_rord_and_books_cl_dr_ar_cr(ledger):
    """P5, S4: a CM-R for 3 of 12 units (300, no dates) reverses Oct–Dec (latest first) and
    books CL Dr / AR Cr 300 in the open period; the return flag stays N."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    assert book(ledger, cm_r("L-1", "CR-1", -300, qty=3)) == "collected 1, stopped 0, waiting 0"
    initial = JournalEntry.objects.get(source_type="CM-R", entry_type="INITIAL")
    assert (initial.period, initial.dr_account, initial.cr_account, initial.amount.amount) == (
        202601,
        CL,
        AR,
        D(300),
    )
    assert reversal_rows() == [(202600 + m, "INV", D(-100)) for m in (10, 11, 12)]
    nets = ledger.nets()
    assert (nets[(202601, AR)], nets[(202601, CL)], nets[(202601, REV)]) == (
        D(900),
        D(-800),
        D(-100),
    )
    line = lines(ledger)["L-1"]
    assert [line[k] for k in ("EXT_SLL_PRC", "RECOGNIZED", "DEFERRED", "RETURN_FLAG")] == [
        "900.00",
        "100.00",
        "800.00",
        "N",
    ]
    assert SoLine.objects.get().returned_qty == 3


def test_p5_the_whole_quantity_returned_sets_the_return_flag(ledger):
    """P5: 3 then the other 9 units: the second CM-R reverses everything left (P2) and
    sets the return flag; the ledger nets to nothing at all."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    book(ledger, cm_r("L-1", "CR-1", -300, qty=3))
    book(ledger, cm_r("L-1", "CR-2", -900, qty=9))
    line = lines(ledger)["L-1"]
    assert [line[k] for k in ("EXT_SLL_PRC", "RECOGNIZED", "DEFERRED", "RETURN_FLAG")] == [
        "0.00",
        "",
        "",
        "Y",
    ]
    assert sched(ledger) == {} and ledger.nets() == {}
    # V10: nothing more can be returned or reduced
    assert book(ledger, cm_r("L-1", "CR-3", -1, qty=1)) == "collected 0, stopped 1, waiting 0"
    assert InboundLine.objects.get(inv_line_id="CR-3").error_codes == "RPRO-00620"


def test_p5_one_return_of_every_unit_in_one_line(ledger):
    """P5: a single CM-R of all 12 units for the whole price: return flag Y."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    book(ledger, cm_r("L-1", "CR-1", -1200, qty=12))
    assert lines(ledger)["L-1"]["RETURN_FLAG"] == "Y"
    assert sched(ledger) == {} and ledger.nets() == {}


# --- V9, V10, V13 on reductions --------------------------------------------------------------


def test_v9_a_rord_larger_than_what_remains_after_an_earlier_rord_is_stopped(ledger):
    """V9: after a RORD of 500, 700 remains: 800 is stopped (RPRO-00357), 700 is collected
    (a full reduction). Also inside one batch the second RORD sees the first."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -500, start="2026-08-01", end="2026-12-31"))
    assert book(ledger, rord("R-2", "L-1", -800, start="2026-01-01", end="2026-07-31")) == (
        "collected 0, stopped 1, waiting 0"
    )
    stopped = InboundLine.objects.get(so_line_id="R-2")
    assert stopped.error_codes == "RPRO-00357"
    assert "800" in stopped.errors[0]["message"] and "700" in stopped.errors[0]["message"]
    assert book(ledger, rord("R-3", "L-1", -700, start="2026-01-01", end="2026-07-31")) == (
        "collected 1, stopped 0, waiting 0"
    )
    assert lines(ledger)["L-1"]["RETURN_FLAG"] == "Y"

    book(ledger, so("M-1", 1200))
    assert book(
        ledger,
        rord("S-1", "M-1", -500, start="2026-08-01", end="2026-12-31"),
        rord("S-2", "M-1", -800, start="2026-01-01", end="2026-07-31"),
    ) == ("collected 1, stopped 1, waiting 0")
    assert InboundLine.objects.get(so_line_id="S-2").error_codes == "RPRO-00357"


def test_v10_a_rord_after_a_full_reduction_is_stopped(ledger):
    """V10: once the line is fully reduced (return flag Y), any RORD is RPRO-00620 (and V9:
    nothing remains)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -1200, start="2026-01-01", end="2026-12-31"))
    assert book(ledger, rord("R-2", "L-1", -1, start="2026-12-01", end="2026-12-31")) == (
        "collected 0, stopped 1, waiting 0"
    )
    assert InboundLine.objects.get(so_line_id="R-2").error_codes == "RPRO-00357;RPRO-00620"


def test_v13_the_same_rord_sent_again_is_booked_once_other_content_is_stopped(ledger):
    """I9 / V13: an identical RORD re-sent is collected without booking anything; the same
    RORD id with other values is stopped with INB-005."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    schedule, journal = ledger.schedule(), ledger.export("journal")
    assert book(ledger, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31")) == (
        "collected 1, stopped 0, waiting 0"
    )
    assert ledger.schedule() == schedule and ledger.export("journal") == journal
    assert SoLine.objects.get().rord_sll_prc == D(-300)

    assert book(ledger, rord("R-1", "L-1", -400, start="2026-09-01", end="2026-12-31")) == (
        "collected 0, stopped 1, waiting 0"
    )
    changed = InboundLine.objects.filter(so_line_id="R-1").order_by("pk").last()
    assert changed.error_codes == "INB-005"
    assert ledger.schedule() == schedule
    assert lines(ledger)["L-1"]["EXT_SLL_PRC"] == "900.00"


def test_net_sell_price_is_the_schedule_total_after_every_kind_of_reduction(ledger):
    """P2–P5: SoLine.net_sll_prc equals the line's schedule total after a RORD and a CM-R."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", Decimal("1000.01"), qty=12), inv("L-1", "I-1", 500, qty=6))
    book(
        ledger,
        rord("R-1", "L-1", Decimal("-123.45"), start="2026-05-10", end="2026-08-20"),
        cm_r("L-1", "CR-1", Decimal("-77.77"), qty=1),
    )
    line = SoLine.objects.get()
    assert line.net_sll_prc == D("798.79")
    assert sum(sched(ledger).values()) == D("798.79")


def test_v13_a_full_reduction_sent_again_is_booked_once_not_stopped(ledger):
    """I9 / V13: the same full RORD (and the same whole-quantity CM-R) re-sent after they
    were collected are the same transactions: collected again without booking anything,
    not stopped by V9 / V10, which judge new reductions against what remains."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200), so("M-1", 1200, qty=12), inv("M-1", "I-1", 1200, qty=12))
    full = rord("R-1", "L-1", -1200, start="2026-01-01", end="2026-12-31")
    back = cm_r("M-1", "CR-1", -1200, qty=12)
    book(ledger, full, back)
    journal, schedule = ledger.export("journal"), ledger.schedule()
    assert book(ledger, full, back) == "collected 2, stopped 0, waiting 0"
    assert ledger.export("journal") == journal and ledger.schedule() == schedule
    assert not InboundLine.objects.exclude(status="COLLECTED").exists()


def test_v13_the_same_rord_twice_in_one_file_is_booked_once(ledger):
    """I9 / V13: two identical RORD rows in one file: the first books, the second is the
    same transaction (not a V9 refusal of 700 + 700 > 1200)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    twice = rord("R-1", "L-1", -700, start="2026-01-01", end="2026-12-31")
    assert book(ledger, twice, twice) == "collected 2, stopped 0, waiting 0"
    assert lines(ledger)["L-1"]["EXT_SLL_PRC"] == "500.00"
    assert (
        ScheduleRow.objects.filter(kind="REVERSAL").values("inbound_line").distinct().count() == 1
    )


def test_i7_a_reduction_waits_while_an_earlier_phase_line_of_its_so_line_is_staged(ledger):
    """I7 across runs (I10): another run skipped L-1's invoice (it held the contract) and
    this run reaches the RORD and CM-RO phases: they wait (INB-004) instead of booking
    before the invoice; the next run books INV, RORD, CM-RO in order, so the contra sees
    the invoice (P7: 1200 − 900 = 300, then 100 removed by the CM-RO, P8)."""
    from revenue.services import collection as collection_service
    from revenue.services.validation import rules_enabled

    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(ledger, so("L-1", 1200))
    ledger.stage(
        HEADER
        + "\n"
        + "\n".join(
            [
                inv("L-1", "I-1", 1200),
                rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"),
                cm_ro("R-1", "L-1", "CRO-1", -100),
            ]
        )
    )
    run = collection_service.collection_run_create(trigger="COMMAND")
    for phase in (("RORD",), ("CM-RO",)):  # the INV phase passed it by
        collection_service._collect_batch(
            run=run, phase=phase, cursor=0, size=100, rules=rules_enabled()
        )
    for kind, waits_for in (("RORD", "INV"), ("CM-RO", "INV, RORD")):
        line = InboundLine.objects.get(tran_type=kind)
        assert (line.status, line.error_codes, line.waiting) == ("ERROR", "INB-004", True)
        assert f"has a staged {waits_for} line" in line.errors[0]["message"]
    assert not ScheduleRow.objects.filter(kind="REVERSAL").exists()

    assert ledger.collect().strip().endswith("collected 3, stopped 0, waiting 0")
    line = SoLine.objects.get()
    assert (line.net_sll_prc, line.contra_balance) == (D(900), D(200))
    assert ledger.nets()[(202601, "CONTRA_AR")] == D(-200)


def test_s11_p3_an_so_update_after_a_reduction_keeps_every_period_whole(ledger):
    """S11 with P3: 1200 over 2026 reduced by Oct–Dec (−300), then the SO price is updated
    to 600: the line sells 300, and no period or source goes below zero (the line was never
    invoiced, so it has no INV-source amount at all)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    book(ledger, so("L-1", 600))
    schedule = sched(ledger)
    assert sum(schedule.values()) == D(300)
    assert all(amount >= 0 for amount in schedule.values()), schedule
    assert not any(source == "INV" for _, source in schedule), schedule


def test_s11_v9_an_so_update_below_what_reductions_took_is_stopped(ledger):
    """S11 with V9 (RPRO-00357): an SO update to a price below what RORDs already took off
    would leave a negative net sell price: it is stopped, the line is unchanged."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    before = sched(ledger)
    assert book(ledger, so("L-1", 200)) == "collected 0, stopped 1, waiting 0"
    stopped = InboundLine.objects.filter(status="ERROR").get()
    assert stopped.error_codes == "RPRO-00357"
    assert "below what reductions already took off the line (300" in stopped.errors[0]["message"]
    assert sched(ledger) == before
    assert SoLine.objects.get().net_sll_prc == D(900)
