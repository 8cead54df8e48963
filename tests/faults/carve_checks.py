"""What a collection must leave of the carve (carve.md K2, K3, K4, K10; I9) however often
its worker was killed, checked from the ledger itself (not from a second run).

The fault tests stage one day of ``bench/collect_data.py`` with SSPs on a share of the
contracts and collect it with the open period at the earliest start, no period closing on
the way: every contract is placed retrospectively (K6; K7 needs a closed period) and every
row is in a period ≥ the open one, so whatever batches a killed run's lines ended up in,
the carve booked on a line through each period is K2's target ``round(C × R(p) / N)``
(K4 books only differences). A carve row written twice, or lost, breaks it.

``carve_problems`` returns the broken rules as sentences (empty: all hold) and
``carve_counts`` what was checked, for the test's report.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from django.db import connection

from core.services import currency_exponent

# (rule, query returning (count of offending rows, up to 5 examples))
CHECKS = {
    "I9: each carve row once (line, period, entry type, inbound line)": """
        SELECT count(*), array_agg(l.so_line_id || ' ' || d.period || ' ' || d.entry_type
                                   || ' ×' || d.n)
        FROM (
            SELECT line_id, period, entry_type, inbound_line_id, count(*) AS n
            FROM revenue_carveentry GROUP BY 1, 2, 3, 4 HAVING count(*) > 1
        ) d JOIN revenue_soline l ON l.id = d.line_id
    """,
    "K3: the carve of each line and period = its ADJ_REVENUE credit = its ADJ_LIABILITY debit": """
        WITH carve AS (
            SELECT line_id, period, sum(amount) AS total FROM revenue_carveentry GROUP BY 1, 2
        ), adj AS (
            SELECT line_id, period,
                   sum(CASE WHEN cr_account = 'ADJ_REVENUE' THEN amount
                            WHEN dr_account = 'ADJ_REVENUE' THEN -amount ELSE 0 END) AS revenue,
                   sum(CASE WHEN dr_account = 'ADJ_LIABILITY' THEN amount
                            WHEN cr_account = 'ADJ_LIABILITY' THEN -amount ELSE 0 END)
                       AS liability,
                   count(*) FILTER (WHERE source_type <> 'ADJ') AS other
            FROM revenue_journal
            WHERE 'ADJ_REVENUE' IN (dr_account, cr_account)
               OR 'ADJ_LIABILITY' IN (dr_account, cr_account)
            GROUP BY 1, 2
        )
        SELECT count(*), array_agg(coalesce(c.line_id, a.line_id) || ' '
                                   || coalesce(c.period, a.period))
        FROM carve c FULL JOIN adj a ON a.line_id = c.line_id AND a.period = c.period
        WHERE coalesce(c.total, 0) <> coalesce(a.revenue, 0)
           OR coalesce(c.total, 0) <> coalesce(a.liability, 0)
           OR coalesce(a.other, 0) <> 0
    """,
    "K10: Σ CARVE = 0 per contract and currency": """
        SELECT count(*), array_agg(contract_id) FROM (
            SELECT contract_id, sum(carve) AS total FROM revenue_soline
            WHERE carve IS NOT NULL GROUP BY contract_id, ext_sll_prc_currency
        ) pools WHERE total <> 0
    """,
    "K10: Σ carve booked over all periods = CARVE on each line not on hold": """
        SELECT count(*), array_agg(l.so_line_id || ': booked ' || coalesce(e.total, 0)
                                   || ', CARVE ' || coalesce(l.carve::text, 'empty'))
        FROM revenue_soline l
        LEFT JOIN (
            SELECT line_id, sum(amount) AS total FROM revenue_carveentry GROUP BY 1
        ) e ON e.line_id = l.id
        WHERE NOT l.hold AND coalesce(e.total, 0) <> coalesce(l.carve, 0)
    """,
    "K5: ADJ_LIABILITY nets to 0 per contract and currency once every line released all": """
        WITH deferred AS (
            SELECT DISTINCT line_id FROM revenue_schedulerow s
            WHERE s.held OR s.period > (SELECT min(id) FROM revenue_period WHERE status = 'OPEN')
            GROUP BY line_id, period, held HAVING sum(amount) <> 0
        ), done AS (
            SELECT contract_id, ext_sll_prc_currency AS currency FROM revenue_soline l
            GROUP BY 1, 2
            HAVING bool_and(NOT l.hold AND l.id NOT IN (SELECT line_id FROM deferred))
        )
        SELECT count(*), array_agg(d.contract_id || ' ' || d.currency)
        FROM done d JOIN (
            SELECT l.contract_id, j.amount_currency AS currency,
                   sum(CASE WHEN j.dr_account = 'ADJ_LIABILITY' THEN j.amount
                            ELSE -j.amount END) AS liability
            FROM revenue_journal j JOIN revenue_soline l ON l.id = j.line_id
            WHERE 'ADJ_LIABILITY' IN (j.dr_account, j.cr_account)
            GROUP BY 1, 2
        ) adj ON adj.contract_id = d.contract_id AND adj.currency = d.currency
        WHERE adj.liability <> 0
    """,
}


def round_half_away(value: Fraction) -> int:
    magnitude = (2 * abs(value.numerator) + value.denominator) // (2 * value.denominator)
    return magnitude if value >= 0 else -magnitude


def _k2_problems(limit: int = 5) -> tuple[int, list[str]]:
    """K2 and K4 for every line with a carve or carve rows: the carve booked through each
    period ≥ the open one is round(C × R(p) / N) (0 for a line without a carve)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM revenue_period WHERE status = 'OPEN'")
        (open_period,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM revenue_period WHERE status = 'CLOSED'")
        assert cursor.fetchone()[0] == 0, "the fault tests' day closes no period"
        cursor.execute(
            """
            SELECT l.id, l.so_line_id, l.ext_sll_prc_currency, l.carve,
                   l.ext_sll_prc + l.rord_sll_prc + l.cmr_sll_prc, l.hold
            FROM revenue_soline l
            WHERE l.carve IS NOT NULL
               OR EXISTS (SELECT 1 FROM revenue_carveentry e WHERE e.line_id = l.id)
            """
        )
        lines = cursor.fetchall()
        cursor.execute(
            """
            SELECT s.line_id, s.period, sum(s.amount) FROM revenue_schedulerow s
            WHERE NOT s.held AND s.line_id IN (
                SELECT id FROM revenue_soline WHERE carve IS NOT NULL
            )
            GROUP BY 1, 2
            """
        )
        released: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for line_id, period, total in cursor.fetchall():
            released[line_id][period] = total
        cursor.execute("SELECT line_id, period, sum(amount) FROM revenue_carveentry GROUP BY 1, 2")
        booked: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for line_id, period, total in cursor.fetchall():
            booked[line_id][period] = total
    broken = []
    for pk, so_line_id, currency, carve, net, _hold in lines:
        scale = 10 ** currency_exponent(currency)
        periods = sorted({open_period, *released[pk], *booked[pk]})
        running_r = running_b = Decimal(0)
        for period in periods:
            running_r += released[pk].get(period, Decimal(0))
            running_b += booked[pk].get(period, Decimal(0))
            if period < open_period:
                continue
            if carve is None or not net:
                target = 0
            else:
                target = round_half_away(
                    Fraction(int(carve * scale))
                    * Fraction(int(running_r * scale))
                    / Fraction(int(net * scale))
                )
            if int(running_b * scale) != target:
                broken.append(
                    f"{so_line_id} through {period}: booked {running_b}, K2's target "
                    f"{Decimal(target) / scale} (CARVE {carve}, R {running_r}, N {net})"
                )
                break
    return len(broken), broken[:limit]


def carve_problems() -> list[str]:
    """Every broken carve rule, with how many rows break it and up to five of them."""
    problems = []
    with connection.cursor() as cursor:
        for rule, sql in CHECKS.items():
            cursor.execute(sql)
            count, examples = cursor.fetchone()
            if count:
                problems.append(f"{rule}: {count} rows break it, e.g. {(examples or [])[:5]}")
    count, examples = _k2_problems()
    if count:
        problems.append(
            f"K2/K4: carve booked through a period ≠ round(C × R(p) / N): {count} lines, "
            f"e.g. {examples}"
        )
    return problems


def carve_counts() -> dict[str, int]:
    """What the checks covered: lines with a carve, contracts with one, carve rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(DISTINCT contract_id), count(*) FILTER (WHERE carve <> 0)
            FROM revenue_soline WHERE carve IS NOT NULL
            """
        )
        lines, contracts, nonzero = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM revenue_carveentry")
        (rows,) = cursor.fetchone()
    return {"lines": lines, "contracts": contracts, "nonzero": nonzero, "rows": rows}
