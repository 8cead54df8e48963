"""Demo data of the sub-ledger: contracts collected over a few periods with SSP allocation,
reductions with contra AR (removed while unposted, reversed once posted), returns, a held
line, and lines stopped in staging with every kind of error an accountant meets.
Idempotent."""

from __future__ import annotations

from django.db import transaction

from .models import CollectionRun, InboundBatch, ScheduleRow, SoLine
from .services.collection import collection_collect
from .services.inbound import inbound_stage
from .services.manual import so_line_hold
from .services.periods import period_close, period_open, period_open_get
from .services.settings import profile_set, registry_seed, rule_switch

FIRST_PERIOD = 202609
OPEN_PERIOD = 202611

CUSTOMERS = ["Acme Corp", "Globex", "Initech", "Umbrella", "Stark Industries"]


SSP_PCT = {"Hardware": "95", "Subscription": "100", "Premium support": "110"}


def _so(num, line, item, qty, elp, esp, start, end, method, currency="USD", customer=""):
    return {
        "SSP_PCT": SSP_PCT.get(item, ""),
        "TRAN_TYPE": "SO",
        "SO_NUM": num,
        "SO_LINE_ID": f"{num}-{line}",
        "SO_DATE": start,
        "CUSTOMER": customer,
        "ITEM": item,
        "ORD_QTY": qty,
        "EXT_LST_PRC": elp,
        "EXT_SLL_PRC": esp,
        "CURR": currency,
        "F_CUR": "USD",
        "START_DATE": start,
        "END_DATE": end,
        "REV_METHOD": method,
    }


def _inv(so: dict, number: str, amount: str, start="", end=""):
    return {
        "TRAN_TYPE": "INV",
        "SO_NUM": so["SO_NUM"],
        "SO_LINE_ID": so["SO_LINE_ID"],
        "INV_NUM": number,
        "INV_LINE_ID": f"{number}-{so['SO_LINE_ID'].rsplit('-', 1)[1]}",
        "INV_DATE": so["START_DATE"],
        "ITEM": so["ITEM"],
        "ORD_QTY": so["ORD_QTY"],
        "INV_QTY": so["ORD_QTY"],
        "EXT_LST_PRC": amount,
        "EXT_SLL_PRC": amount,
        "CURR": so["CURR"],
        "F_CUR": "USD",
        "START_DATE": start,
        "END_DATE": end,
    }


def demo_rows() -> list[dict]:
    rows = []
    contracts = [
        ("DEMO-SO-1001", "2026-07-01", "2027-06-30", "USD"),
        ("DEMO-SO-1002", "2026-09-15", "2027-09-14", "USD"),
        ("DEMO-SO-1003", "2026-10-01", "2028-09-30", "EUR"),
        ("DEMO-SO-1004", "2026-11-01", "2027-10-31", "USD"),
        ("DEMO-SO-1005", "2026-08-01", "2027-01-31", "GBP"),
    ]
    for n, (num, start, end, currency) in enumerate(contracts):
        customer = CUSTOMERS[n]
        hardware = _so(
            num,
            1,
            "Hardware",
            "2",
            "5000.00",
            "4500.00",
            start,
            start,
            "IMMEDIATE",
            currency,
            customer,
        )
        licence = _so(
            num,
            2,
            "Subscription",
            "10",
            "12000.00",
            "10800.00",
            start,
            end,
            "RATABLE_MONTHLY",
            currency,
            customer,
        )
        support = _so(
            num,
            3,
            "Premium support",
            "1",
            "2400.00",
            "2160.00",
            start,
            end,
            "RATABLE_DAILY",
            currency,
            customer,
        )
        rows += [hardware, licence, support, _inv(hardware, f"INV-{num[-4:]}", "4500.00")]
        if n % 2 == 0:
            rows.append(_inv(licence, f"INV-{num[-4:]}", "10800.00"))
        else:
            first_half = end[:4] + "-" + ("03-31" if end[5:7] > "03" else end[5:10])
            rows.append(_inv(licence, f"INV-{num[-4:]}", "2700.00", start, first_half))
    # stopped in staging: what revenue accountants fix every day
    rows += [
        {
            **_so(
                "DEMO-SO-1006",
                1,
                "Consulting",
                "5",
                "7500",
                "7O00",
                "2026-11-03",
                "2026-11-30",
                "IMMEDIATE",
                "USD",
                "Initech",
            ),
            "SO_DATE": "2026-11-31",
        },
        _inv(
            _so(
                "DEMO-SO-1099",
                1,
                "Training",
                "1",
                "900",
                "900",
                "2026-11-05",
                "2026-11-05",
                "IMMEDIATE",
            ),
            "INV-1099",
            "900.00",
        ),
        {
            "TRAN_TYPE": "RORD",
            "SO_NUM": "DEMO-RO-1",
            "SO_LINE_ID": "DEMO-RO-1-1",
            "ORIG_SO_LINE_ID": "DEMO-SO-1001-2",
            "SO_DATE": "2026-11-10",
            "ITEM": "Subscription",
            "ORD_QTY": "2",
            "EXT_LST_PRC": "-2400",
            "EXT_SLL_PRC": "2160",
            "CURR": "USD",
            "F_CUR": "USD",
            "START_DATE": "2027-01-01",
            "END_DATE": "2027-06-30",
        },
        {
            "TRAN_TYPE": "RORD",
            "SO_NUM": "DEMO-RO-2",
            "SO_LINE_ID": "DEMO-RO-2-1",
            "ORIG_SO_LINE_ID": "DEMO-SO-1002-2",
            "SO_DATE": "2026-11-12",
            "ITEM": "Subscription",
            "ORD_QTY": "1",
            "EXT_LST_PRC": "-1200",
            "EXT_SLL_PRC": "-1080",
            "CURR": "EUR",
            "F_CUR": "USD",
            "START_DATE": "2027-04-01",
            "END_DATE": "2027-09-14",
        },
        {
            "TRAN_TYPE": "RORD",
            "SO_NUM": "DEMO-RO-3",
            "SO_LINE_ID": "DEMO-RO-3-1",
            "ORIG_SO_LINE_ID": "DEMO-SO-1004-2",
            "SO_DATE": "2026-11-14",
            "ITEM": "Subscription",
            "ORD_QTY": "3",
            "EXT_LST_PRC": "-3600",
            "EXT_SLL_PRC": "-3240",
            "CURR": "USD",
            "F_CUR": "USD",
            "START_DATE": "2027-05-01",
            "END_DATE": "2027-10-31",
        },
        {"TRAN_TYPE": "WO", "SO_LINE_ID": "DEMO-X-1", "EXT_SLL_PRC": "10"},
        # a term reduction of a fully billed subscription: contra AR 2,700.00 (P7), of which
        # a first credit memo removes 1,000.00 while it is not posted yet (P8)
        _reduction("DEMO-RO-4", "DEMO-SO-1001-2", "2", "-2700.00", "2027-04-01", "2027-06-30"),
        _credit("CM-RO", "DEMO-RO-4", "DEMO-SO-1001-2", "DEMO-CM-4A", "-1000.00"),
        # a return of one of two routers (P5) and of everything on DEMO-SO-1005-1
        _credit("CM-R", "", "DEMO-SO-1001-1", "DEMO-CM-5", "-2250.00", qty="1"),
        _credit("CM-R", "", "DEMO-SO-1005-1", "DEMO-CM-6", "-4500.00", qty="2", currency="GBP"),
    ]
    return rows


def later_rows() -> list[dict]:
    """Staged after the close, in the open period: the second credit memo of DEMO-RO-4 meets
    a posted contra entry and books a contra reversal (P8); a full reduction (P2) that gives
    back revenue of closed periods, so its contract's carve is re-shared retrospectively; a
    cut of the last six months of a subscription that gives back nothing recognized, so its
    contract's remaining carve is spread prospectively (carve.md K7); a RORD for review."""
    return [
        _credit("CM-RO", "DEMO-RO-4", "DEMO-SO-1001-2", "DEMO-CM-4B", "-1700.00"),
        _reduction("DEMO-RO-7", "DEMO-SO-1002-3", "1", "-2160.00", "2026-09-15", "2027-09-14"),
        _reduction(
            "DEMO-RO-9", "DEMO-SO-1003-2", "3", "-2700.00", "2028-04-01", "2028-09-30", "EUR"
        ),
        # ends a month after its SO line: stopped by RPRO-00353 (V6) until reviewed (I5)
        _reduction("DEMO-RO-8", "DEMO-SO-1004-2", "2", "-1800.00", "2027-08-01", "2027-11-30"),
    ]


def _reduction(num, orig, qty, esp, start, end, currency="USD"):
    return {
        "TRAN_TYPE": "RORD",
        "SO_NUM": num,
        "SO_LINE_ID": f"{num}-1",
        "ORIG_SO_LINE_ID": orig,
        "SO_DATE": start,
        "ITEM": "Subscription",
        "ORD_QTY": qty,
        "EXT_LST_PRC": esp,
        "EXT_SLL_PRC": esp,
        "CURR": currency,
        "F_CUR": "USD",
        "START_DATE": start,
        "END_DATE": end,
    }


def _credit(kind, reduction, line, number, esp, qty="", currency="USD"):
    row = {
        "TRAN_TYPE": kind,
        "SO_NUM": line.rsplit("-", 1)[0],
        "SO_LINE_ID": f"{reduction}-1" if reduction else line,
        "INV_NUM": number,
        "INV_LINE_ID": f"{number}-1",
        "INV_DATE": "2026-11-16",
        "INV_QTY": qty,
        "EXT_SLL_PRC": esp,
        "CURR": currency,
        "F_CUR": "USD",
    }
    if reduction:
        row["ORIG_SO_LINE_ID"] = line
    return row


def revenue_demo_load() -> dict[str, int]:
    """Stage, collect and close a few periods once; later calls change nothing."""
    if InboundBatch.objects.filter(source=InboundBatch.SourceKind.DEMO).exists():
        return {}
    with transaction.atomic():
        if period_open_get() is None and not ScheduleRow.objects.exists():
            period_open(period=FIRST_PERIOD, actor=None)
        registry_seed()  # the rules and settings the migration seeds, if a flush emptied them
        profile_set(name="CREATE_RORD_CONTRA_ENTRY", value="Y", actor=None)
        batch = inbound_stage(
            rows=demo_rows(), source=InboundBatch.SourceKind.DEMO, filename="demo lines"
        )
    run = collection_collect(trigger=CollectionRun.Trigger.COMMAND)
    current = period_open_get()
    if current and current.id < OPEN_PERIOD:
        period_close(actor=None, through=OPEN_PERIOD - 1)
    rule_switch(code="RPRO-00353", enabled=True, actor=None)
    later = inbound_stage(
        rows=later_rows(), source=InboundBatch.SourceKind.DEMO, filename="demo lines (November)"
    )
    collection_collect(trigger=CollectionRun.Trigger.COMMAND)
    held = SoLine.objects.filter(so_line_id="DEMO-SO-1005-2", hold=False).first()
    if held:
        so_line_hold(line=held, actor=None, reason="Demo: customer disputes the renewal")
    return {"inbound lines": batch.line_count + later.line_count, "collected": run.collected}
