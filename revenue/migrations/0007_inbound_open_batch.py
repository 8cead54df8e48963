"""``inbound_open_batch``: a batch's lines not collected yet, by status (partial: not
COLLECTED, so it stays small and marking a line collected does not insert into it). The
batch list counts each page's new and stopped lines from it, and its collected lines as
all lines (``inbound_batch_key``) less those, every count read from an index alone.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0006_admin_volume_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inboundline",
            index=models.Index(
                condition=models.Q(("status", "COLLECTED"), _negated=True),
                fields=["batch", "status"],
                name="inbound_open_batch",
            ),
        ),
    ]
