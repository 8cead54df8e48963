"""M4: the revenue app's own checks of the pre-close checklist.

Each check is one or two counting queries, read from the partial indexes of the lines
still to look at (``inbound_open_batch``, ``inbound_error_codes``), so the checklist stays
fast with millions of collected lines. Only lines NEW before the close
started and a live collection run block (close.md M4); everything else warns. WITHDRAWN
lines (I4) are never counted: every check names the statuses it counts.

The carve checks (carve.md K10) are one grouped read of the SO lines and their booked
carve (``CarveEntry``): per contract and currency Σ CARVE, each line's booked carve against
its CARVE, the adjustment liability of a fully released contract, the currencies of a
contract (K8) and which lines have an SSP.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Q
from django.urls import reverse

from ..models import (
    CarveEntry,
    CollectionRun,
    InboundBatch,
    InboundLine,
    Period,
    RevenueContract,
    ScheduleRow,
    SoLine,
)
from ..models.choices import LineStatus
from ..selectors_ledger import rords_awaiting_review
from ..services.collection import collection_run_lost
from .checklist import BLOCKER, OK, WARNING, Check, checklist_register

NAMED = 5  # contracts named in a carve check's detail
LINKED = 100  # contracts in a carve check's link


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _url(name: str, **filters) -> str:
    return reverse(f"admin:revenue_{name}_changelist") + (
        "?" + urlencode(filters) if filters else ""
    )


def _row(name: str, severity: str, count: int, found: str, clear: str, url: str) -> Check:
    """``found`` when count > 0 (with ``severity``), otherwise an ``ok`` row saying so."""
    if count:
        return Check(name, severity, count, found, url)
    return Check(name, OK, 0, clear, url)


def check_lines_new(*, period: int, started_at: datetime) -> list[Check]:
    """Blocker: lines still NEW whose staging began before the close started (I6 has not
    run on them). A batch's lines are staged in one transaction after the batch row, so
    the batch's time is when they were staged; counting by batch reads the
    ``inbound_open_batch`` index alone (50 ms for 190,000 NEW lines of 1M, against 850 ms
    reading each line's own time). Lines staged during the close do not block."""
    staged = InboundBatch.objects.filter(created_at__lt=started_at).values("pk")
    count = InboundLine.objects.filter(status=LineStatus.NEW, batch_id__in=staged).count()
    lines = _plural(
        count,
        "line staged before the close started is",
        "lines staged before the close started are",
    )
    return [
        _row(
            "lines_new",
            BLOCKER,
            count,
            f"{lines} still NEW: collect them first (revenue_collect or Collect now)",
            "no line staged before the close is waiting to be collected",
            _url("inboundline", status__exact=LineStatus.NEW),
        )
    ]


def check_collection_running(*, period: int, started_at: datetime) -> list[Check]:
    """Blocker: a collection run that is running and alive. A run marked Running that lost
    its worker (I9, ``collection_run_lost``: its lease is free, or where a lease cannot
    tell, no heartbeat for ``CONTRA_RUN_STALE_SECONDS``) does not block: the next run or
    beat's tick marks it FAILED and takes over its lines. One whose lease a live worker
    holds blocks, however old its heartbeat."""
    running = CollectionRun.objects.filter(status=CollectionRun.Status.RUNNING).order_by("pk")
    alive = [
        pk
        for pk, heartbeat in running.values_list("pk", "heartbeat_at")
        if not collection_run_lost(pk, heartbeat)
    ]
    runs = alive[:NAMED]
    count = len(alive)
    named = ", ".join(str(pk) for pk in runs)
    runs_text = _plural(
        count,
        f"collection run is still running (run {named})",
        f"collection runs are still running (runs {named})",
    )
    return [
        _row(
            "collection_running",
            BLOCKER,
            count,
            f"{runs_text}: wait for it to finish, then close",
            "no collection run is running",
            _url("collectionrun", status__exact=CollectionRun.Status.RUNNING),
        )
    ]


def check_lines_stopped(*, period: int, started_at: datetime) -> list[Check]:
    """Warnings: lines stopped in staging by an error, and lines waiting for their SO line
    (V12): one read of the stopped lines for both rows. A line marked for retry (edited
    or reviewed, I3) still only warns: the next collection retries it."""
    counts = InboundLine.objects.filter(status=LineStatus.ERROR).aggregate(
        stopped=Count("pk", filter=Q(waiting=False)),
        retry=Count("pk", filter=Q(waiting=False, retry=True)),
        waiting=Count("pk", filter=Q(waiting=True)),
    )
    stopped, retry, waiting = counts["stopped"], counts["retry"], counts["waiting"]
    retried = f" ({retry} marked for retry at the next collection)" if retry else ""
    return [
        _row(
            "lines_stopped",
            WARNING,
            stopped,
            f"{_plural(stopped, 'line is', 'lines are')} stopped in staging with errors"
            f"{retried}: correct, review or delete them",
            "no line is stopped in staging",
            _url("inboundline", status__exact=LineStatus.ERROR, waiting__exact="0"),
        ),
        _row(
            "lines_waiting",
            WARNING,
            waiting,
            f"{_plural(waiting, 'line waits', 'lines wait')} for an SO line not collected yet "
            "(INB-004): stage or collect the SO line",
            "no line waits for its SO line",
            _url("inboundline", status__exact=LineStatus.ERROR, waiting__exact="1"),
        ),
    ]


def check_rords_review(*, period: int, started_at: datetime) -> list[Check]:
    """Warning: RORD lines stopped by V6 / V7, waiting for RORD Review Completed (I5)."""
    counts = rords_awaiting_review().aggregate(
        n=Count("pk"), unmarked=Count("pk", filter=~Q(rord_review_completed="Y"))
    )
    count, unmarked = counts["n"], counts["unmarked"]
    return [
        _row(
            "rords_review",
            WARNING,
            count,
            f"{_plural(count, 'RORD line awaits', 'RORD lines await')} review (stopped by "
            f"RPRO-00353 or RPRO-00356, {unmarked} not marked yet): tick RORD Review Completed "
            "and collect",
            "no RORD line awaits review",
            _url("inboundline", rord_review="awaiting"),
        )
    ]


def check_lines_on_hold(*, period: int, started_at: datetime) -> list[Check]:
    """Warning: SO lines on hold (S10): they release nothing until released."""
    count = SoLine.objects.filter(hold=True).count()
    return [
        _row(
            "lines_on_hold",
            WARNING,
            count,
            f"{_plural(count, 'SO line is', 'SO lines are')} on hold: their revenue stays "
            "deferred until released",
            "no SO line is on hold",
            _url("soline", hold__exact="1"),
        )
    ]


# --- carve (carve.md K10) -------------------------------------------------------------------

# Per contract and currency, in minor units (×100, exact integers on SQLite and PostgreSQL
# alike): Σ CARVE, the lines in the pool (not returned: a returned line has no Ext SSP,
# whatever its SSP inputs), those with an SSP (A2's Ext SSP), the lines not on hold
# whose carve booked over all periods (Σ CarveEntry) is not their CARVE (null counts as 0),
# and the adjustment liability (Σ CarveEntry: Dr − Cr of ADJ_LIABILITY). Where that liability
# is not 0, ``pending`` finds the contracts and currencies with a line not fully released:
# schedule rows of a future period, or held, whose sum is not 0 (read through each line's
# index, for those few contracts only), or a line on hold (a held line that sells nothing
# has no rows to hold). Then per contract the flags of K10.
CONTRACT_FLAGS = """
WITH booked AS (
    SELECT line_id, SUM(CAST(ROUND(amount * 100) AS BIGINT)) AS cents
    FROM {carve}
    GROUP BY line_id
), per_currency AS (
    SELECT so.contract_id,
           so.ext_sll_prc_currency AS currency,
           SUM(CAST(ROUND(so.carve * 100) AS BIGINT)) AS carve_cents,
           SUM(CASE WHEN so.return_flag = 'Y' THEN 0 ELSE 1 END) AS n,
           COUNT(so.ext_ssp) AS with_ssp,
           SUM(CASE WHEN NOT so.hold
                     AND COALESCE(booked.cents, 0)
                         <> COALESCE(CAST(ROUND(so.carve * 100) AS BIGINT), 0)
                    THEN 1 ELSE 0 END) AS booked_off,
           SUM(COALESCE(booked.cents, 0)) AS liability_cents,
           SUM(CASE WHEN so.hold THEN 1 ELSE 0 END) AS held
    FROM {lines} so
    LEFT JOIN booked ON booked.line_id = so.id
    GROUP BY so.contract_id, so.ext_sll_prc_currency
), pending AS (
    SELECT DISTINCT per_currency.contract_id, per_currency.currency
    FROM per_currency
    JOIN {lines} so ON so.contract_id = per_currency.contract_id
                     AND so.ext_sll_prc_currency = per_currency.currency
    JOIN {schedule} sched ON sched.line_id = so.id
    WHERE per_currency.liability_cents <> 0 AND (sched.period > {open} OR sched.held)
    GROUP BY per_currency.contract_id, per_currency.currency,
             sched.line_id, sched.period, sched.held
    HAVING SUM(CAST(ROUND(sched.amount * 100) AS BIGINT)) <> 0
), per_contract AS (
    SELECT per_currency.contract_id,
           SUM(CASE WHEN carve_cents <> 0 THEN 1 ELSE 0 END) AS unbalanced,
           SUM(booked_off) AS booked_off,
           SUM(CASE WHEN liability_cents <> 0 AND pending.contract_id IS NULL AND held = 0
                    THEN 1 ELSE 0 END) AS liability,
           COUNT(*) AS currencies,
           SUM(with_ssp) AS with_ssp,
           SUM(n) AS n
    FROM per_currency
    LEFT JOIN pending ON pending.contract_id = per_currency.contract_id
                     AND pending.currency = per_currency.currency
    GROUP BY per_currency.contract_id
), flags AS (
    SELECT contract_id,
           CASE WHEN unbalanced > 0 THEN 1 ELSE 0 END AS unbalanced,
           CASE WHEN booked_off > 0 THEN 1 ELSE 0 END AS booked,
           CASE WHEN liability > 0 THEN 1 ELSE 0 END AS liability,
           CASE WHEN currencies > 1 THEN 1 ELSE 0 END AS currencies,
           CASE WHEN with_ssp > 0 AND with_ssp < n THEN 1 ELSE 0 END AS partial_ssp
    FROM per_contract
)
"""
FLAGGED = """
SELECT '{flag}', contract_id, rc_key FROM (
    SELECT flags.contract_id, contract.rc_key
    FROM flags JOIN {contracts} contract ON contract.id = flags.contract_id
    WHERE flags.{flag} = 1
    ORDER BY contract.rc_key
    LIMIT %s
) AS flagged_{flag}
"""
# (check, flag column, detail when found, detail when clear)
CARVE_CHECKS = (
    (
        "carve_unbalanced",
        "unbalanced",
        "{} with Σ CARVE ≠ 0 in a currency (it must add up to 0): check the allocation of {}",
        "every contract's carve adds up to 0 per currency",
    ),
    (
        "carve_booked",
        "booked",
        "{} with a line not on hold whose carve booked over all periods is not its CARVE: "
        "check the carve entries of {}",
        "every line not on hold has booked its CARVE over its periods",
    ),
    (
        "carve_liability",
        "liability",
        "{} fully released whose adjustment liability is not 0 in a currency (it must be "
        "once every line has released everything): check the carve entries of {}",
        "no fully released contract keeps an adjustment liability",
    ),
    (
        "contract_currencies",
        "currencies",
        "{} with lines in several currencies, allocated per currency (ASC 606 wants one pool): {}",
        "no contract has lines in several currencies",
    ),
    (
        "contract_partial_ssp",
        "partial_ssp",
        "{} where some lines have an SSP and others none (those get no allocation): {}",
        "no contract mixes lines with and without an SSP",
    ),
)
CARVE_FLAGS = tuple(flag for _, flag, *_ in CARVE_CHECKS)


def _flags_head(open_period: str = "%s") -> str:
    """The flags' SQL; ``open_period``: the SQL of the open period (a parameter, or a
    subquery of the periods)."""
    quote = connection.ops.quote_name
    return CONTRACT_FLAGS.format(
        carve=quote(CarveEntry._meta.db_table),
        lines=quote(SoLine._meta.db_table),
        schedule=quote(ScheduleRow._meta.db_table),
        open=open_period,
    )


def _contract_flags(period: int) -> tuple[list[int], dict[str, list[tuple[int, str]]]]:
    """The counts of contracts per flag (one query), then, when one is not 0, the first
    contracts of each flag by RC_KEY (one more query for all of them: normally none).
    ``period``: the open period (a later schedule row is not released yet)."""
    head = _flags_head()
    contracts = connection.ops.quote_name(RevenueContract._meta.db_table)
    sums = ", ".join(f"SUM({flag})" for flag in CARVE_FLAGS)
    flagged: dict[str, list[tuple[int, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"{head} SELECT {sums} FROM flags", [period])
        counts = [int(value or 0) for value in cursor.fetchone()]
        found = [flag for flag, count in zip(CARVE_FLAGS, counts, strict=True) if count]
        if found:
            lists = " UNION ALL ".join(
                FLAGGED.format(contracts=contracts, flag=flag) for flag in found
            )
            cursor.execute(head + lists, [period, *[LINKED] * len(found)])
            for flag, pk, rc_key in cursor.fetchall():
                flagged.setdefault(flag, []).append((pk, rc_key))
    for mine in flagged.values():
        mine.sort(key=lambda item: item[1])
    return counts, flagged


def carve_flagged_contract_ids(flag: str | None = None) -> set[int]:
    """The contracts a carve check of K10 flags (``flag``: one of ``CARVE_FLAGS``,
    unbalanced, booked, liability, currencies, partial_ssp), or any of them (None), as of
    the open period: one query. The admin's contract list filters on it."""
    if flag is not None and flag not in CARVE_FLAGS:
        raise ValueError(f"not a carve flag: {flag!r}")
    where = f"{flag} = 1" if flag else " OR ".join(f"{f} = 1" for f in CARVE_FLAGS)
    periods = connection.ops.quote_name(Period._meta.db_table)
    open_period = f"COALESCE((SELECT MAX(id) FROM {periods} WHERE status = %s), 0)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_flags_head(open_period)} SELECT contract_id FROM flags WHERE {where}",
            [Period.Status.OPEN.value],
        )
        return {int(pk) for (pk,) in cursor.fetchall()}


def check_carve(*, period: int, started_at: datetime) -> list[Check]:
    """Warnings of carve.md K10, per contract and currency: Σ CARVE ≠ 0; a line not on hold
    whose carve booked over all periods (its carve entries) is not its CARVE; every line
    fully released but the adjustment liability not 0; lines in several currencies (K8);
    lines with and without an SSP. The first three are also the test invariants of K10."""
    counts, flagged = _contract_flags(period)
    rows = []
    for (name, flag, found, clear), count in zip(CARVE_CHECKS, counts, strict=True):
        mine = flagged.get(flag, [])
        named = ", ".join(key for _, key in mine[:NAMED])
        if count > NAMED:
            named += f" and {count - NAMED} more"
        ids = ",".join(str(pk) for pk, _ in mine)
        url = _url("soline", contract__id__in=ids) if ids else _url("revenuecontract")
        text = found.format(_plural(count, "contract", "contracts"), named)
        rows.append(_row(name, WARNING, count, text, clear, url))
    return rows


REVENUE_CHECKS = (
    ("lines_new", check_lines_new),
    ("collection_running", check_collection_running),
    ("lines_stopped", check_lines_stopped),  # and lines_waiting
    ("rords_review", check_rords_review),
    ("lines_on_hold", check_lines_on_hold),
    ("carve", check_carve),
)


def checks_register() -> None:
    """Called from RevenueConfig.ready: the revenue checks first, whatever the app order."""
    for name, function in REVENUE_CHECKS:
        checklist_register(name, function, rank=0)
