"""What a collection must leave behind however often its worker was killed (I9, S3, P2–P9,
A3), checked line by line from the staged lines themselves (not from a second run).

Each check is one SQL query answering how many rows break the rule and a few examples;
``collection_problems`` returns the broken ones as readable sentences (empty: all hold).
The expectations per line type are those of ``bench/collect_data.py``'s ``full`` mix with
the open period at the earliest start: an SO line is 12 monthly releases, an INV converts
12 SO-source months into INV-source ones, every billing line books one initial entry, a
RORD or CM-R reverses exactly its own amount and a RORD books at most one contra entry.
"""

from __future__ import annotations

from django.db import connection

# (rule, query returning (count of offending rows, up to 5 examples))
CHECKS = {
    "I9: every staged line collected (none NEW, stopped or waiting)": """
        SELECT count(*), array_agg(tran_type || ' ' || line_key || ' ' || status)
        FROM revenue_inboundline WHERE status <> 'COLLECTED' OR line_id IS NULL
    """,
    "I9: each SO line has exactly one SoLine, of its own id": """
        SELECT count(*), array_agg(i.so_line_id)
        FROM revenue_inboundline i LEFT JOIN revenue_soline l ON l.id = i.line_id
        WHERE i.tran_type = 'SO' AND l.so_line_id IS DISTINCT FROM i.so_line_id
    """,
    "I9: no SoLine without its staged SO line": """
        SELECT count(*), array_agg(l.so_line_id) FROM revenue_soline l
        LEFT JOIN (
            SELECT line_id, count(*) AS n FROM revenue_inboundline WHERE tran_type = 'SO'
            GROUP BY 1
        ) i ON i.line_id = l.id
        WHERE i.n IS DISTINCT FROM 1
    """,
    "I9: each staged line booked its schedule rows and entries once": """
        WITH rows AS (
            SELECT inbound_line_id AS id, count(*) AS n, sum(amount) AS total,
                   sum(amount) FILTER (WHERE source = 'INV') AS billed,
                   count(*) FILTER (WHERE kind = 'RELEASE') AS releases
            FROM revenue_schedulerow GROUP BY 1
        ), entries AS (
            SELECT inbound_line_id AS id, count(*) AS n,
                   count(*) FILTER (WHERE entry_type = 'INITIAL') AS initial
            FROM revenue_journal WHERE source_type <> 'ADJ' GROUP BY 1  -- carve: checked apart
        ), contra AS (
            SELECT inbound_line_id AS id, count(*) AS n FROM revenue_contraentry
            WHERE kind = 'CONTRA' GROUP BY 1
        )
        SELECT count(*), array_agg(i.tran_type || ' ' || i.line_key || ': rows '
                                   || coalesce(r.n, 0) || ', entries ' || coalesce(e.n, 0))
        FROM revenue_inboundline i
        LEFT JOIN rows r ON r.id = i.id
        LEFT JOIN entries e ON e.id = i.id
        LEFT JOIN contra c ON c.id = i.id
        WHERE NOT coalesce(CASE i.tran_type
            WHEN 'SO' THEN r.n = 12 AND r.releases = 12 AND r.total = i.ext_sll_prc
                           AND e.n = 12 AND e.initial = 0
            WHEN 'INV' THEN r.n = 24 AND r.total = 0 AND r.billed = i.ext_sll_prc
                            AND e.n = 1 AND e.initial = 1
            WHEN 'RORD' THEN r.total = i.ext_sll_prc AND e.initial = 0
                             AND coalesce(c.n, 0) <= 1
            WHEN 'CM-R' THEN r.total = i.ext_sll_prc AND e.initial = 1
            WHEN 'CM-RO' THEN r.n IS NULL AND e.n = 1 AND e.initial = 1
        END, false)
    """,
    "P2/P3: Σ RORD and Σ CM-R kept on each SO line = its collected RORDs and CM-Rs": """
        SELECT count(*), array_agg(l.so_line_id) FROM revenue_soline l
        LEFT JOIN (
            SELECT line_id,
                   coalesce(sum(ext_sll_prc) FILTER (WHERE tran_type = 'RORD'), 0) AS rord,
                   coalesce(sum(ext_sll_prc) FILTER (WHERE tran_type = 'CM-R'), 0) AS cmr
            FROM revenue_inboundline GROUP BY line_id
        ) i ON i.line_id = l.id
        WHERE l.rord_sll_prc <> i.rord OR l.cmr_sll_prc <> i.cmr
    """,
    "S6: Σ schedule of each SO line = its net sell price (ESP + Σ RORD + Σ CM-R)": """
        SELECT count(*), array_agg(l.so_line_id) FROM revenue_soline l
        LEFT JOIN (SELECT line_id, sum(amount) AS total FROM revenue_schedulerow GROUP BY 1) s
            ON s.line_id = l.id
        WHERE coalesce(s.total, 0) <> l.ext_sll_prc + l.rord_sll_prc + l.cmr_sll_prc
    """,
    "S3: every period balanced: Σ debits = Σ credits per period and currency": """
        SELECT count(*), array_agg(period || ' ' || currency) FROM (
            SELECT period, currency, sum(dr) AS dr, sum(cr) AS cr FROM (
                SELECT period, amount_currency AS currency, amount AS dr, 0 AS cr
                FROM revenue_journal
                UNION ALL
                SELECT period, amount_currency, 0, amount FROM revenue_journal
            ) sides GROUP BY 1, 2
        ) totals WHERE dr <> cr
    """,
    "S3: journal nets per period and account add up to zero": """
        SELECT count(*), array_agg(period) FROM (
            SELECT period, sum(net) AS net FROM (
                SELECT period, dr_account AS account, amount AS net FROM revenue_journal
                UNION ALL
                SELECT period, cr_account, -amount FROM revenue_journal
            ) sides GROUP BY period
        ) nets WHERE net <> 0
    """,
    "P6–P8: contra AR outstanding per line = its contra entries = Contra AR in the journal": """
        SELECT count(*), array_agg(l.so_line_id) FROM revenue_soline l
        LEFT JOIN (
            SELECT line_id, sum(amount - removed - reversed) AS balance
            FROM revenue_contraentry WHERE kind = 'CONTRA' GROUP BY 1
        ) c ON c.line_id = l.id
        LEFT JOIN (
            SELECT line_id, sum(CASE WHEN cr_account = 'CONTRA_AR' THEN amount
                                     ELSE -amount END) AS booked
            FROM revenue_journal WHERE 'CONTRA_AR' IN (dr_account, cr_account)
            GROUP BY 1
        ) j ON j.line_id = l.id
        WHERE l.contra_balance <> coalesce(c.balance, 0)
           OR l.contra_balance <> coalesce(j.booked, 0)
    """,
    "A3: Σ allocated = Σ net sell price per contract and currency": """
        SELECT count(*), array_agg(contract_id) FROM (
            SELECT contract_id, sum(allocated) AS allocated,
                   sum(ext_sll_prc + rord_sll_prc + cmr_sll_prc) AS esp
            FROM revenue_soline WHERE allocated IS NOT NULL
            GROUP BY contract_id, ext_sll_prc_currency
        ) pools WHERE allocated <> esp
    """,
}


def collection_problems() -> list[str]:
    """Every broken rule, with how many rows break it and up to five of them."""
    problems = []
    with connection.cursor() as cursor:
        for rule, sql in CHECKS.items():
            cursor.execute(sql)
            count, examples = cursor.fetchone()
            if count:
                problems.append(f"{rule}: {count} rows break it, e.g. {(examples or [])[:5]}")
    return problems
