"""The order list of one account at volume (bench/admin.py: 1M orders, 20,000 accounts).

``order_account_newest``: (account, -effective_date, -id, status) for the standard and
change orders (reduction orders have their own list): one account's orders newest first
are a range of the index, and the page's count with a status filter is read from the index
alone (no visit to the table).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_returns_quantities"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("kind", "REDUCTION"), _negated=True),
                fields=["account", "-effective_date", "-id", "status"],
                name="order_account_newest",
            ),
        ),
    ]
