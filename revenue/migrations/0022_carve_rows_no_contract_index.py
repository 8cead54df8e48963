"""Carve rows lose their contract index (issue 20, carve accounting at collection speed).

Only the carve step read carve rows by contract (a contract's booked carve, and whether a
contract has any); it reads them through the contract's lines now (``carve_line_period``).
Every carve row written paid for the index: about 0.4–0.8 s of PostgreSQL's time for the
bench day's 367,635 rows. Contracts are never deleted (the admin is read-only for them),
so PROTECT's lookup by contract does not run.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0021_soline_hold_period"),
    ]

    operations = [
        migrations.AlterField(
            model_name="carveentry",
            name="contract",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="revenue.revenuecontract",
            ),
        ),
    ]
