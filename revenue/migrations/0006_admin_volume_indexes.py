"""Indexes for the admin at volume (bench/admin.py: 2M journal entries, 1M inbound lines).

- ``journal_period`` becomes (period, id): it still finds a period's entries (close,
  trial balance, the period filter) and now also serves the journal list's order, newest
  period first and by id within it, a page at a time (no sort of a whole period).
- ``inbound_error_codes``: the stopped lines' type, error codes, review flag and id
  (partial: status ERROR), read without visiting the table by the error-code filter and by
  the RORDs awaiting review (I5: the filter and the count shown on every list view).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0005_inbound_open_ref"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="journalentry",
            name="journal_period",
        ),
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(fields=["period", "id"], name="journal_period"),
        ),
        migrations.AddIndex(
            model_name="inboundline",
            index=models.Index(
                condition=models.Q(("status", "ERROR")),
                fields=["tran_type", "error_codes", "rord_review_completed", "id"],
                name="inbound_error_codes",
            ),
        ),
    ]
