"""The period of a line's hold (S10, carve.md K2, K7): ``SoLine.hold_period``.

A held free line (N = 0 with an SSP) weighs its carve by S6's date weights; with held rows
excluded as for any line, its share stops at the last period it released in before the hold,
so the hold's period is recorded on the line (set by a hold, cleared by a release).

Data step, for lines already on hold: the period that was open when the line's latest hold
was recorded (its last "hold" audit event: the latest period opened at or before it); a
held line without such an event gets the open period (none open: left empty, which the
carve reads as held in the open period). Lines not on hold stay empty.
"""

from django.db import migrations, models


def hold_periods_fill(apps, schema_editor):
    SoLine = apps.get_model("revenue", "SoLine")
    Period = apps.get_model("revenue", "Period")
    AuditEvent = apps.get_model("core", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    held = list(SoLine.objects.filter(hold=True).values_list("pk", flat=True))
    if not held:
        return
    opened = sorted(Period.objects.values_list("opened_at", "pk"))
    open_period = Period.objects.filter(status="OPEN").values_list("pk", flat=True).first()
    content_type = ContentType.objects.filter(app_label="revenue", model="soline").first()
    last_hold: dict[int, object] = {}
    if content_type is not None:
        for object_id, at in (
            AuditEvent.objects.filter(
                content_type=content_type,
                object_id__in=[str(pk) for pk in held],
                action="hold",
            )
            .order_by("at", "id")
            .values_list("object_id", "at")
        ):
            last_hold[int(object_id)] = at
    for pk in held:
        period = open_period
        at = last_hold.get(pk)
        if at is not None:
            before = [p for opened_at, p in opened if opened_at <= at]
            if before:
                period = before[-1]
        if period is not None:
            SoLine.objects.filter(pk=pk).update(hold_period=period)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("revenue", "0020_carve_entries_derived"),
    ]

    operations = [
        migrations.AddField(
            model_name="soline",
            name="hold_period",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="The open period when the line was put on hold (held again in the "
                "period it was released in: the period of that earlier hold, as the new hold "
                "takes the release back); empty when not on hold.",
                null=True,
            ),
        ),
        migrations.RunPython(hold_periods_fill, migrations.RunPython.noop),
    ]
