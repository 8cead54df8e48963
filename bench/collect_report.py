"""bench/collect.py's floor and checks: what PostgreSQL itself needs to move the volume a
collection moved, and the invariants the collected ledger must hold."""

from __future__ import annotations

import io
import time

FLOOR_INBOUND = "bench_floor_inboundline"
FLOOR_SCHEDULE = "bench_floor_schedulerow"
FLOOR_JOURNAL = "bench_floor_journalentry"


def scalar(cursor, sql: str, params=None):
    cursor.execute(sql, params or [])
    return cursor.fetchone()[0]


def floor_measure(
    connection,
    *,
    collection: float,
    so_lines: int,
    staged: int,
    schedule_rows: int,
    journal_rows: int,
    keep: bool,
) -> float:
    """Time the floor on the same database; prints it and returns it (seconds)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {FLOOR_INBOUND} (LIKE revenue_inboundline INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE {FLOOR_SCHEDULE} (LIKE revenue_schedulerow INCLUDING ALL)")
        cursor.execute(f"CREATE TABLE {FLOOR_JOURNAL} (LIKE revenue_journalentry INCLUDING ALL)")
        # (c) numbers its rows from 1: the stored entries' ids-apart check is not its shape
        cursor.execute(
            f"ALTER TABLE {FLOOR_JOURNAL} DROP CONSTRAINT IF EXISTS journal_stored_ids_apart"
        )
        indexes = scalar(
            cursor, "SELECT count(*) FROM pg_indexes WHERE tablename = %s", [FLOOR_INBOUND]
        )
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        with cursor.copy("COPY (SELECT * FROM revenue_inboundline) TO STDOUT") as copy:
            for block in copy:
                buffer.write(block)
        copy_out = time.perf_counter() - started
        size = buffer.tell()
        buffer.seek(0)
        started = time.perf_counter()
        with cursor.copy(f"COPY {FLOOR_INBOUND} FROM STDIN") as copy:
            while block := buffer.read(1 << 20):
                copy.write(block)
        copy_in = time.perf_counter() - started
        del buffer
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO {FLOOR_SCHEDULE}
                (line_id, period, source, amount, amount_currency, kind, held, inbound_line_id)
            SELECT 1 + mod(i, %s), 202501 + mod(i, 12), 'SO', 100.00 + mod(i, 1000), 'USD',
                   'RELEASE', false, 1 + mod(i, %s)
            FROM generate_series(0, %s - 1) AS i
            """,
            [max(so_lines, 1), max(staged, 1), schedule_rows],
        )
        insert = time.perf_counter() - started
        # (c), for reference only (not in the floor): the journal entries, the same way
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO {FLOOR_JOURNAL} (period, line_id, source_type, entry_type, dr_account,
                cr_account, amount, amount_currency, posted, inbound_line_id)
            SELECT 202501 + mod(i, 12), 1 + mod(i, %s), 'SO', 'RELEASE', 'CONTRACT_LIABILITY',
                   'REVENUE', 100.00 + mod(i, 1000), 'USD', false, 1 + mod(i, %s)
            FROM generate_series(0, %s - 1) AS i
            """,
            [max(so_lines, 1), max(staged, 1), journal_rows],
        )
        journal_insert = time.perf_counter() - started
    floor = copy_out + copy_in + insert
    print(
        f"floor (a):  COPY of the {staged:,} staged rows ({size / 1e6:,.0f} MB as COPY text): "
        f"COPY (SELECT * FROM revenue_inboundline) TO STDOUT {copy_out:.1f} s + COPY FROM STDIN "
        f"into a logged table LIKE revenue_inboundline INCLUDING ALL (the same {indexes} "
        f"indexes) {copy_in:.1f} s"
    )
    print(
        f"floor (b):  INSERT … SELECT FROM generate_series of {schedule_rows:,} rows into a logged "
        f"table LIKE revenue_schedulerow INCLUDING ALL (same indexes and checks; LIKE copies "
        f"no foreign key): {insert:.1f} s"
    )
    print(
        f"floor:      {floor:.1f} s total (a + b; journal entries not included);  "
        f"collection / floor = {collection / floor:.1f}×"
    )
    print(
        f"reference:  not in the floor: the {journal_rows:,} journal entries the same way (c) "
        f"{journal_insert:.1f} s; a + b + c = {floor + journal_insert:.1f} s, collection / "
        f"(a + b + c) = {collection / (floor + journal_insert):.1f}×."
    )
    if not keep:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {FLOOR_INBOUND}, {FLOOR_SCHEDULE}, {FLOOR_JOURNAL}")

    return floor


def checks_run(
    connection, *, runs, made: dict, mix: str, staged: int, schedule_rows: int, journal_rows: int
) -> int:
    """Print every check; return how many failed."""
    failed = 0

    def check(label: str, ok: bool, detail: str) -> None:
        nonlocal failed
        failed += not ok
        print(f"check {'ok    ' if ok else 'FAILED'} {label}: {detail}")

    with connection.cursor() as cursor:
        not_collected = scalar(
            cursor, "SELECT count(*) FROM revenue_inboundline WHERE status <> 'COLLECTED'"
        )
        check(
            "every staged line COLLECTED",
            not_collected == 0,
            f"{staged - not_collected:,} of {staged:,} collected",
        )
        collected = sum(run.collected for run in runs)
        check(
            "collection run" + ("s" if len(runs) > 1 else ""),
            all(run.status == "SUCCEEDED" for run in runs) and collected == staged,
            "; ".join(
                f"run {run.pk} {run.status}: collected {run.collected:,}, stopped "
                f"{run.stopped}, waiting {run.waiting}, skipped {run.skipped}"
                for run in runs
            )
            + f" (Σ collected {collected:,}: each line once)",
        )
        cursor.execute(
            """
            SELECT period, sum(dr) AS dr, sum(cr) AS cr FROM (
                SELECT period, amount AS dr, 0 AS cr FROM revenue_journal
                UNION ALL
                SELECT period, 0, amount FROM revenue_journal
            ) sides GROUP BY period ORDER BY period
            """
        )
        periods = cursor.fetchall()
        unbalanced = [p for p in periods if p[1] != p[2]]
        check(
            "journal debits = credits per period",
            not unbalanced,
            f"{len(periods)} periods, {len(unbalanced)} unbalanced; Σ Dr = "
            f"{sum(p[1] for p in periods):,.2f} = Σ Cr = {sum(p[2] for p in periods):,.2f}",
        )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE coalesce(s.total, 0)
                       <> l.ext_sll_prc + l.rord_sll_prc + l.cmr_sll_prc),
                   count(*) FILTER (WHERE l.return_flag = 'Y'),
                   count(*) FILTER (WHERE l.rord_sll_prc + l.cmr_sll_prc < 0),
                   count(*) FILTER (WHERE l.ext_sll_prc + l.rord_sll_prc + l.cmr_sll_prc < 0)
            FROM revenue_soline l
            LEFT JOIN (
                SELECT line_id, sum(amount) AS total FROM revenue_schedulerow GROUP BY line_id
            ) s ON s.line_id = l.id
            """
        )
        lines, off, returned, reduced, negative = cursor.fetchone()
        check(
            "Σ schedule per SO line = its net sell price (ESP + Σ RORD + Σ CM-R, P2/P3)",
            off == 0 and negative == 0 and lines == made["so"],
            f"{lines:,} SO lines ({reduced:,} reduced, {returned:,} fully: return flag Y), "
            f"{off} differ, {negative} below zero",
        )
        if mix == "basic":
            cursor.execute(
                """
                SELECT count(*) FILTER (WHERE s.total IS DISTINCT FROM i.ext_sll_prc), count(*)
                FROM revenue_inboundline i
                LEFT JOIN (
                    SELECT line_id, sum(amount) AS total FROM revenue_schedulerow
                    WHERE source = 'INV' GROUP BY line_id
                ) s ON s.line_id = i.line_id
                WHERE i.tran_type = 'INV'
                """
            )
            off, invoiced = cursor.fetchone()
            check(
                "Σ INV-source schedule per invoiced line = its INV amount",
                off == 0,
                f"{invoiced:,} invoiced lines, {off} differ",
            )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE total <> 0) FROM (
                SELECT contract_id, ext_sll_prc_currency, sum(carve) AS total
                FROM revenue_soline WHERE carve IS NOT NULL GROUP BY 1, 2
            ) pools
            """
        )
        pools, unbalanced = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE coalesce(e.total, 0) <> coalesce(l.carve, 0)),
                   coalesce(sum(e.rows), 0)
            FROM revenue_soline l
            LEFT JOIN (
                SELECT line_id, sum(amount) AS total, count(*) AS rows
                FROM revenue_carveentry GROUP BY line_id
            ) e ON e.line_id = l.id
            WHERE NOT l.hold AND (l.carve IS NOT NULL OR e.line_id IS NOT NULL)
            """
        )
        carved, off, carve_rows = cursor.fetchone()
        check(
            "carve: Σ CARVE = 0 per contract and currency, Σ carve booked = CARVE per line (K10)",
            unbalanced == 0 and off == 0,
            f"{pools:,} allocated contract currencies, {unbalanced} unbalanced; {carved:,} lines "
            f"with a carve, {off} whose booked carve differs; {carve_rows:,} carve rows",
        )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE c.balance IS DISTINCT FROM l.contra_balance)
            FROM revenue_soline l
            JOIN (
                SELECT line_id, sum(CASE WHEN kind = 'CONTRA' THEN amount - removed - reversed
                                    ELSE 0 END) AS balance
                FROM revenue_contraentry GROUP BY line_id
            ) c ON c.line_id = l.id
            """
        )
        with_contra, off = cursor.fetchone()
        contra_journal = scalar(cursor, "SELECT sum(contra_balance) FROM revenue_soline") or 0
        cursor.execute(
            """
            SELECT coalesce(sum(CASE WHEN cr_account = 'CONTRA_AR' THEN amount
                                     ELSE -amount END), 0)
            FROM revenue_journal WHERE 'CONTRA_AR' IN (dr_account, cr_account)
            """
        )
        booked = cursor.fetchone()[0]
        check(
            "contra AR: outstanding per line = its ContraEntry rows = Contra AR in the journal",
            off == 0 and booked == contra_journal,
            f"{with_contra:,} lines with contra entries, {off} differ; Contra AR credit "
            f"{booked:,.2f} = Σ outstanding {contra_journal:,.2f}",
        )
        cursor.execute(
            """
            SELECT count(*), count(*) FILTER (WHERE alloc IS DISTINCT FROM esp)
            FROM (
                SELECT contract_id, ext_sll_prc_currency,
                       sum(allocated) AS alloc,
                       sum(ext_sll_prc + rord_sll_prc + cmr_sll_prc) AS esp
                FROM revenue_soline WHERE allocated IS NOT NULL
                GROUP BY contract_id, ext_sll_prc_currency
            ) pools
            """
        )
        pools, off = cursor.fetchone()
        check(
            "allocation: Σ allocated = Σ net ESP per contract and currency (A3)",
            off == 0,
            f"{pools:,} allocated contracts, {off} differ",
        )
        cursor.execute(
            """
            SELECT (SELECT count(*) FROM revenue_schedulerow r
                    WHERE NOT EXISTS (SELECT 1 FROM revenue_soline l WHERE l.id = r.line_id)),
                   (SELECT count(*) FROM revenue_journal e
                    WHERE NOT EXISTS (SELECT 1 FROM revenue_soline l WHERE l.id = e.line_id))
            """
        )
        orphans = cursor.fetchone()
        check(
            "every schedule row and entry has its SO line (no database FK: see ScheduleRow)",
            orphans == (0, 0),
            f"{orphans[0]} orphan schedule rows, {orphans[1]} orphan entries",
        )
        expected_rows = 12 * made["so"] + 24 * made["inv"]
        expected_entries = 12 * made["so"] + made["inv"]
        if mix != "basic":
            return failed
        check(
            "row counts",
            (schedule_rows, journal_rows) == (expected_rows, expected_entries),
            f"schedule {schedule_rows:,} (expected 12 × SO + 24 × INV = {expected_rows:,}), "
            f"journal {journal_rows:,} (expected 12 × SO + INV = {expected_entries:,})",
        )
    return failed
