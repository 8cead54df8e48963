"""M6: seed the hourly tidy of report exports as a django-celery-beat job."""

import json

from django.db import migrations

NAME = "Reports: tidy the exports"


def seed(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = Crontab.objects.get_or_create(
        minute="15", hour="*", day_of_month="*", month_of_year="*", day_of_week="*",
        timezone="UTC",
    )
    Task.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "core.tasks.report_exports_tidy_task",
            "crontab": hourly,
            "kwargs": json.dumps({}),
            "description": "M6: exports stuck for 6 hours marked failed; finished ones "
            "removed with their files after 7 days.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_report_exports"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
