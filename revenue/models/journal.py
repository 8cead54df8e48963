"""The journal (S3–S5), releases stored once (issue 16, docs/design/collection.md 2.1).

A schedule row that releases or reverses revenue *is* its journal entry: the row records
which entry it books (``ScheduleRow.entry``) and the pair follows from its sign (S5): a
positive amount is Contract liability Dr / Revenue Cr, a negative one Revenue Dr /
Contract liability Cr. Those entries are not written a second time. A carve row
(``CarveEntry``, carve.md K3) is its journal entry the same way: source type ``ADJ``, its
entry type, and a positive amount Adjustment liability Dr / Adjustment revenue Cr, a
negative one the reverse. Every other entry (billing, contra AR, the reversals and
catch-ups of a hold or release, and the release entries written before releases were
stored once) is stored in ``revenue_journalentry`` (``BookedEntry``).

``JournalEntry`` is what every reader reads: the view ``revenue_journal``, the stored
entries and the derived ones, with the same columns. A derived entry has its row's id,
period and inbound line; ``posted`` is whether that period is closed. Ids stay apart:
stored entries are numbered from ``STORED_FROM`` (2^62) on, carve rows from ``CARVE_FROM``
(2^61) on and schedule rows below it (``journal_ids_apart``), so the view's columns are
the tables' own and PostgreSQL merges the branches in their indexes' order (an expression
column of a UNION ALL branch is never matched to an index). The same SQL
(``derived_entries_sql``, ``carve_entries_sql``) defines the view, feeds the ledger
totals' triggers (M6) and rebuilds them: one spelling of S5 and K3 on SQLite and
PostgreSQL.

A held row that books an entry never moves: when its period closes, the close books the
held amount out of that period and into the next by two held rows without entries (S10),
so every entry stays in the period it was booked in.
"""

from django.db import models
from django.db.models import F, Q
from djmoney.models.fields import MoneyField

from .choices import Account, EntryType
from .ledger import MONEY, SoLine

# the accounts of a revenue release or its reversal (S5): most of the journal
RELEASE_ACCOUNTS = (Account.CONTRACT_LIABILITY, Account.REVENUE)
RELEASE_PAIR = Q(dr_account__in=RELEASE_ACCOUNTS, cr_account__in=RELEASE_ACCOUNTS)

VIEW = "revenue_journal"
STORED = "revenue_journalentry"
SCHEDULE = "revenue_schedulerow"
CARVE = "revenue_carveentry"
# the journal's columns: a stored entry's (its id aside) and the view's
ENTRY_COLUMNS = (
    "period",
    "line_id",
    "source_type",
    "entry_type",
    "dr_account",
    "cr_account",
    "amount",
    "amount_currency",
    "posted",
    "inbound_line_id",
)
COLUMNS = ("id", *ENTRY_COLUMNS)
# S5: (branch, debit, credit, the entry's amount: positive in the row's own branch only)
_SIDES = (
    (1, Account.CONTRACT_LIABILITY.value, Account.REVENUE.value, "s.amount"),
    (-1, Account.REVENUE.value, Account.CONTRACT_LIABILITY.value, "-s.amount"),
)
# K3: the same for a carve row, on the adjustment accounts
_CARVE_SIDES = (
    (2, Account.ADJ_LIABILITY.value, Account.ADJ_REVENUE.value, "s.amount"),
    (-2, Account.ADJ_REVENUE.value, Account.ADJ_LIABILITY.value, "-s.amount"),
)
CARVE_SOURCE_TYPE = "ADJ"  # K9: the journal's source type of carve pairs
# stored entries are numbered from here on, carve rows from CARVE_FROM, schedule rows
# below it (journal_ids_apart)
STORED_FROM = 2**62
CARVE_FROM = 2**61
# the row's columns a derived entry reads (a subquery over a trigger's NEW or OLD lists them)
ROW_COLUMNS = (
    "id",
    "period",
    "line_id",
    "source",
    "entry",
    "amount",
    "amount_currency",
    "inbound_line_id",
)
CARVE_ROW_COLUMNS = (
    "id",
    "period",
    "line_id",
    "entry_type",
    "amount",
    "amount_currency",
    "inbound_line_id",
)


# the branch a view row comes from: 0 stored, 1 a positive row, -1 a negative one
_STORED_SIDE = 0
# an entry of a schedule row: the row books one, and the branch of its sign
_BOOKED = "u.entry_type IS NOT NULL AND u.amount > 0"


def _posted_sql(posted: bool) -> str:
    if not posted:
        return "FALSE"
    # closed = before the open period (S1: periods move forward only, by closing); one
    # subquery for the statement, not a join per row
    return (
        "COALESCE(s.period < (SELECT min(p.id) FROM revenue_period p "
        "WHERE p.status = 'OPEN'), FALSE)"
    )


def _branches(rows: str, *, posted: bool, carve: bool = False, contract: bool = False) -> str:
    """One branch per sign over the schedule rows ``rows`` (with ``carve``, carve rows),
    each with constant accounts, so that a filter on an account other than the two of a
    release (AR, contra AR) leaves both out when the query is planned. No WHERE in a
    branch: PostgreSQL flattens a UNION ALL whose branches are single tables without
    quals, and only then pushes the outer filter into each and merges them in their
    indexes' order; for the same reason each column has the stored table's type exactly
    and ``id`` and ``period`` are the row's."""
    if carve:
        source = f"CAST('{CARVE_SOURCE_TYPE}' AS VARCHAR(5))"
        entry, sides = "s.entry_type", _CARVE_SIDES
    else:
        source, entry, sides = "CAST(s.source AS VARCHAR(5))", "s.entry", _SIDES
    extra = ", s.contract_id AS contract_id" if contract else ""
    return "\nUNION ALL\n".join(
        f"SELECT s.id AS id, s.period AS period, s.line_id AS line_id, "
        f"{source} AS source_type, {entry} AS entry_type, "
        f"CAST('{dr}' AS VARCHAR(20)) AS dr_account, CAST('{cr}' AS VARCHAR(20)) AS cr_account, "
        f"CAST({amount} AS NUMERIC(18, 2)) AS amount, s.amount_currency AS amount_currency, "
        f"{_posted_sql(posted)} AS posted, s.inbound_line_id AS inbound_line_id, {side} AS side"
        f"{extra} FROM {rows} s"
        for side, dr, cr, amount in sides
    )


def derived_entries_sql(rows: str = SCHEDULE, *, posted: bool = True) -> str:
    """The journal entries of the schedule rows ``rows`` (a table, or a parenthesised
    subquery with ``ROW_COLUMNS``), in the journal's columns (S5: a positive row is CL Dr /
    Revenue Cr, a negative one Revenue Dr / CL Cr, for the amount's magnitude). Without
    ``posted`` the column is FALSE and the periods are not read (the triggers)."""
    columns = ", ".join(f"u.{name}" for name in COLUMNS)
    return f"SELECT {columns} FROM ({_branches(rows, posted=posted)}) u WHERE {_BOOKED}"


def carve_entries_sql(rows: str = CARVE, *, posted: bool = True, contract: bool = False) -> str:
    """The journal entries of the carve rows ``rows`` (a table, or a parenthesised subquery
    with ``CARVE_ROW_COLUMNS``), in the journal's columns (K3: c > 0 Adjustment liability
    Dr / Adjustment revenue Cr, c < 0 the reverse, for the amount's magnitude). With
    ``contract``, also the row's ``contract_id`` (the triggers' key: no SO line read)."""
    names = (*COLUMNS, "contract_id") if contract else COLUMNS
    columns = ", ".join(f"u.{name}" for name in names)
    branches = _branches(rows, posted=posted, carve=True, contract=contract)
    return f"SELECT {columns} FROM ({branches}) u WHERE {_BOOKED}"


def row_values_sql(row: str, columns=ROW_COLUMNS) -> str:
    """A one-row subquery of a SQLite trigger's ``NEW`` or ``OLD`` schedule row (or, with
    ``CARVE_ROW_COLUMNS``, carve row)."""
    values = ", ".join(f"{row}.{name} AS {name}" for name in columns)
    return f"(SELECT {values})"


def view_sql(*, carve: bool = True) -> str:
    """The view: stored entries, those of schedule rows and (from migration 0020 on) those
    of carve rows."""
    columns = ", ".join(COLUMNS)
    stored = f"SELECT {columns}, {_STORED_SIDE} AS side FROM {STORED}"
    branches = [stored, _branches(SCHEDULE, posted=True)]
    if carve:
        branches.append(_branches(CARVE, posted=True, carve=True))
    union = "\nUNION ALL\n".join(branches)
    return (
        f"CREATE VIEW {VIEW} AS SELECT {', '.join(f'u.{c}' for c in COLUMNS)} FROM (\n"
        f"{union}\n) u WHERE u.side = {_STORED_SIDE} OR ({_BOOKED})"
    )


DROP_VIEW = f"DROP VIEW IF EXISTS {VIEW}"


def journal_ids_apart(cursor, vendor: str, *, carve: bool = True) -> None:
    """Number new stored entries from ``STORED_FROM`` on, new carve rows from
    ``CARVE_FROM`` on (after every carve row there) and new schedule rows after every id
    either table holds below ``CARVE_FROM``, so that no entry of the view shares an id.
    PostgreSQL: in the migrations (identity sequences survive ALTER TABLE) and after a
    TRUNCATE … RESTART IDENTITY. SQLite: after every migrate, as a rebuilt table's
    AUTOINCREMENT counter restarts at its largest id."""
    below = (
        f"SELECT max(id) FROM (SELECT max(id) AS id FROM {SCHEDULE} UNION ALL "
        f"SELECT max(id) FROM {STORED} WHERE id < {CARVE_FROM}) ids"
    )
    carved = f"SELECT max(id) FROM {CARVE} WHERE id >= {CARVE_FROM}"
    if vendor == "postgresql":
        # after every stored entry there (a migration runs this on a ledger in use)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{STORED}', 'id'), "
            f"GREATEST((SELECT max(id) FROM {STORED}), {STORED_FROM - 1}), TRUE)"
        )
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{SCHEDULE}', 'id'), "
            f"GREATEST(({below}), 1), ({below}) IS NOT NULL)"
        )
        if carve:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{CARVE}', 'id'), "
                f"GREATEST(({carved}), {CARVE_FROM - 1}), TRUE)"
            )
        return
    cursor.execute(f"SELECT ({below}), (SELECT max(id) FROM {STORED})")
    schedule_seq, stored_max = cursor.fetchone()
    sequences = [
        (SCHEDULE, schedule_seq or 0),
        (STORED, max(stored_max or 0, STORED_FROM - 1)),
    ]
    if carve:
        cursor.execute(carved)
        sequences.append((CARVE, max(cursor.fetchone()[0] or 0, CARVE_FROM - 1)))
    for table, seq in sequences:
        cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, seq])


class JournalFields(models.Model):
    """A balanced pair: ``amount`` debited to ``dr_account`` and credited to ``cr_account``.

    Storing the pair (not two one-sided rows) makes an unbalanced entry impossible (S3);
    exports print one row per account side.
    """

    period = models.PositiveIntegerField()
    source_type = models.CharField(max_length=5)
    entry_type = models.CharField(max_length=16, choices=EntryType.choices)
    dr_account = models.CharField("debit", max_length=20, choices=Account.choices)
    cr_account = models.CharField("credit", max_length=20, choices=Account.choices)
    amount = MoneyField(**MONEY)
    posted = models.BooleanField(default=False)
    inbound_line = models.ForeignKey(
        "revenue.InboundLine",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period} {self.entry_type} Dr {self.dr_account} / Cr {self.cr_account}"


class BookedEntry(JournalFields):
    """A stored entry (everything but the releases and reversals of schedule rows).
    Written by collection, manual actions and close; read through ``JournalEntry``."""

    line = models.ForeignKey(
        SoLine, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )  # no database constraint: see ScheduleRow.line

    class Meta:
        db_table = STORED
        default_permissions = ()  # the admin and the API read the journal (JournalEntry)
        verbose_name = "stored journal entry"
        verbose_name_plural = "stored journal entries"
        ordering = ["period", "line", "id"]
        # a period's entries (close, trial balance, the admin filter) and the admin list's
        # order, newest period first and by id within it, a page at a time
        indexes = [
            models.Index(fields=["period", "id"], name="journal_period"),
            # the same order for the entries that touch an account other than the two of
            # a release pair (AR, contra AR, adjustments: a small share of the journal),
            # for the account filter (without it a filter on AR read the whole list)
            models.Index(
                fields=["period", "id"], name="journal_other_accounts", condition=~RELEASE_PAIR
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="journal_amount_positive"),
            models.CheckConstraint(
                condition=~Q(dr_account=F("cr_account")), name="journal_two_accounts"
            ),
        ]


class JournalEntry(JournalFields):
    """The journal as readers see it: stored entries and those of schedule rows and carve
    rows (the view ``revenue_journal``, read-only). A derived entry has its row's id."""

    id = models.BigIntegerField(primary_key=True)
    line = models.ForeignKey(
        SoLine, on_delete=models.DO_NOTHING, related_name="journal", db_constraint=False
    )

    class Meta:
        managed = False
        db_table = VIEW
        verbose_name_plural = "journal entries"
        ordering = ["period", "line", "id"]
