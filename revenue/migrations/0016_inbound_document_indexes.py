"""The lines one document staged, found by its number (the inbound admin's ``document``
filter and the document pages' "Revenue lines (N)" links): ``inbound_inv_document``
(INV_NUM of billing lines: invoices, credit memos) and ``inbound_so_document`` (SO_NUM of
the lines without an INV_NUM: SO and RORD lines of orders and reduction orders). Partial
on complementary conditions: every line is in exactly one of them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0015_plain_help_texts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inboundline",
            index=models.Index(
                condition=models.Q(("inv_num", ""), _negated=True),
                fields=["inv_num"],
                name="inbound_inv_document",
            ),
        ),
        migrations.AddIndex(
            model_name="inboundline",
            index=models.Index(
                condition=models.Q(("inv_num", "")),
                fields=["so_num"],
                name="inbound_so_document",
            ),
        ),
    ]
