"""PostgreSQL: how many rows of revenue_soline a statement read by sequential scan, and a
table grown as a day's batches grow it (no ANALYZE). For tests that a statement's cost
follows its own rows, not the size of the SO line table."""

from django.db import connection

from revenue.models import SoLine


def soline_scanned() -> int:
    """Rows of revenue_soline read by sequential scans in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(seq_tup_read, 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = 'revenue_soline'"
        )
        return cursor.fetchone()[0]


def solines_copy(line: SoLine, n: int) -> None:
    """``n`` more SO lines like ``line`` (other ids), without ANALYZE, as a day's batches
    add them."""
    columns = [f.column for f in SoLine._meta.concrete_fields if not f.primary_key]
    values = [f"{c} || '-' || g" if c == "so_line_id" else c for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO revenue_soline ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM revenue_soline, generate_series(1, %s) g "
            "WHERE id = %s",
            [n, line.pk],
        )
