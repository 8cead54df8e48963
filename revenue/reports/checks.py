"""M4: the revenue app's own checks of the pre-close checklist.

Each check is one or two counting queries, read from the partial indexes of the lines
still to look at (``inbound_open_batch``, ``inbound_error_codes``), so the checklist stays
fast with millions of collected lines. Only lines NEW before the close
started and a live collection run block (close.md M4); everything else warns. WITHDRAWN
lines (I4) are never counted: every check names the statuses it counts.

The carve checks (carve.md K10) are one grouped read of the SO lines: per contract and
currency Σ CARVE, the currencies of a contract (K8) and which lines have an SSP.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Q
from django.urls import reverse

from ..models import CollectionRun, InboundBatch, InboundLine, RevenueContract, SoLine
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

# Per contract and currency: Σ CARVE in minor units (×100, exact on both databases), the
# lines and the lines with an SSP (A2's Ext SSP); then per contract the flags of K10.
CONTRACT_FLAGS = """
WITH per_currency AS (
    SELECT contract_id,
           SUM(CAST(ROUND(carve * 100) AS BIGINT)) AS carve_cents,
           COUNT(*) AS n,
           COUNT(ext_ssp) AS with_ssp
    FROM {lines}
    GROUP BY contract_id, ext_sll_prc_currency
), per_contract AS (
    SELECT contract_id,
           SUM(CASE WHEN carve_cents <> 0 THEN 1 ELSE 0 END) AS unbalanced,
           COUNT(*) AS currencies,
           SUM(with_ssp) AS with_ssp,
           SUM(n) AS n
    FROM per_currency
    GROUP BY contract_id
), flags AS (
    SELECT contract_id,
           CASE WHEN unbalanced > 0 THEN 1 ELSE 0 END AS unbalanced,
           CASE WHEN currencies > 1 THEN 1 ELSE 0 END AS currencies,
           CASE WHEN with_ssp > 0 AND with_ssp < n THEN 1 ELSE 0 END AS partial_ssp
    FROM per_contract
)
"""
FLAG_COUNTS = "SELECT SUM(unbalanced), SUM(currencies), SUM(partial_ssp) FROM flags"
FLAGGED = """
SELECT flags.contract_id, contract.rc_key
FROM flags JOIN {contracts} contract ON contract.id = flags.contract_id
WHERE flags.{flag} = 1
ORDER BY contract.rc_key
LIMIT %s
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


def _contract_flags() -> tuple[list[int], dict[str, list[tuple[int, str]]]]:
    """The three counts of contracts (one query), then, for each count that is not 0, the
    first contracts flagged by RC_KEY (one query each: normally none)."""
    head = CONTRACT_FLAGS.format(lines=connection.ops.quote_name(SoLine._meta.db_table))
    contracts = connection.ops.quote_name(RevenueContract._meta.db_table)
    flagged: dict[str, list[tuple[int, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(head + FLAG_COUNTS)
        counts = [int(value or 0) for value in cursor.fetchone()]
        for (_, flag, *_), count in zip(CARVE_CHECKS, counts, strict=True):
            if count:
                cursor.execute(head + FLAGGED.format(contracts=contracts, flag=flag), [LINKED])
                flagged[flag] = cursor.fetchall()
    return counts, flagged


def check_carve(*, period: int, started_at: datetime) -> list[Check]:
    """Warnings of carve.md K10 that the ledger can compute today: Σ CARVE ≠ 0 per contract
    and currency, contracts in several currencies (K8), contracts with lines with and
    without an SSP. (Carve is not booked yet: there is no booked carve to compare.)"""
    counts, flagged = _contract_flags()
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
