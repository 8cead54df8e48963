"""``journal_other_accounts``: the journal's (period, id) order for the entries that touch
an account other than the two of a release pair (CONTRACT_LIABILITY / REVENUE): billing,
contra AR and adjustments, a small share of the journal. The account filter on AR, contra
AR or an adjustment account reads it instead of walking the whole list (130 ms with 2M
entries when the newest periods hold only releases)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0007_inbound_open_batch"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="journalentry",
            index=models.Index(
                condition=models.Q(
                    ("cr_account__in", ("CONTRACT_LIABILITY", "REVENUE")),
                    ("dr_account__in", ("CONTRACT_LIABILITY", "REVENUE")),
                    _negated=True,
                ),
                fields=["period", "id"],
                name="journal_other_accounts",
            ),
        ),
    ]
