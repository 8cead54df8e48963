"""M6: the journal's totals, maintained by the database in the same transaction as the entries.

``LedgerTotal`` rows are signed *deltas*, one per key and statement that wrote the journal:
an insert adds (+amount, +entries), a delete subtracts them, an update of an entry's amount
or key subtracts the old and adds the new. They are append-only with no unique key, so two
collection workers writing entries of different contracts at once never wait for each other
(I10); a total is the SUM of a key's deltas (``revenue.selectors_totals``), and
``ledger_totals_compact`` folds a key's deltas into one row (at each close, and nightly).

Triggers created by migration ``0010_ledger_totals`` maintain them on every write path (COPY,
bulk INSERT, the ORM, raw UPDATE / DELETE): on PostgreSQL statement-level triggers with
transition tables (one grouped delta per key and statement), on SQLite row-level ones. The
contract is the SO line's when the entry is written (an SO line never changes contract).
"""

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.signals import post_migrate, pre_migrate

from .choices import Account

# the accounts of the contract liability on the ASC 606 basis (reports.ledger.basis_accounts)
LIABILITY_ACCOUNTS = [Account.CONTRACT_LIABILITY, Account.ADJ_LIABILITY]


class LedgerTotal(models.Model):
    """A signed delta of the journal's totals for one key (M6)."""

    period = models.PositiveIntegerField()
    contract_id = models.BigIntegerField(
        "contract", help_text="The SO line's revenue contract (no database constraint)."
    )
    currency = models.CharField(max_length=3)
    dr_account = models.CharField("debit", max_length=20)
    cr_account = models.CharField("credit", max_length=20)
    entry_type = models.CharField(max_length=16)
    source_type = models.CharField(max_length=5)
    amount_minor = models.BigIntegerField(
        help_text="Σ amount × 100 (as stored: two decimals in every currency)."
    )
    entries = models.BigIntegerField(help_text="Σ of +1 per entry added, −1 per entry removed.")

    class Meta:
        verbose_name = "ledger total (delta)"
        verbose_name_plural = "ledger totals (deltas)"
        indexes = [
            models.Index(fields=["period"], name="ledger_total_period"),
            models.Index(fields=["contract_id", "period"], name="ledger_total_contract"),
            # M3 nets each contract's contract liability through P (ASC 606 basis): on
            # PostgreSQL an index-only scan, already in (currency, contract) order
            models.Index(
                fields=["currency", "contract_id"],
                include=["period", "dr_account", "cr_account", "amount_minor"],
                condition=models.Q(dr_account__in=LIABILITY_ACCOUNTS)
                | models.Q(cr_account__in=LIABILITY_ACCOUNTS),
                name="ledger_total_liability",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.period} {self.contract_id} {self.currency} {self.entry_type} "
            f"Dr {self.dr_account} / Cr {self.cr_account} {self.amount_minor}"
        )


def _sqlite_triggers(install: bool):
    """SQLite only: the journal's triggers are dropped before ``migrate`` and made again
    after it (``revenue.services.totals.ledger_totals_sqlite_triggers``)."""

    def handler(sender, using=DEFAULT_DB_ALIAS, **kwargs):
        if getattr(sender, "label", None) != "revenue":
            return
        from ..services.totals import ledger_totals_sqlite_triggers

        ledger_totals_sqlite_triggers(connection=connections[using], install=install)

    return handler


pre_migrate.connect(_sqlite_triggers(False), weak=False, dispatch_uid="revenue_totals_pre")
post_migrate.connect(_sqlite_triggers(True), weak=False, dispatch_uid="revenue_totals_post")
