"""B4: seed the daily billing run as a django-celery-beat job (02:00)."""

import json

from django.db import migrations

NAME = "Orders: billing run"


def seed(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = Crontab.objects.get_or_create(
        minute="0", hour="2", day_of_month="*", month_of_year="*", day_of_week="*",
        timezone="UTC",
    )
    Task.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "orders.tasks.billing_run_task",
            "crontab": daily,
            "kwargs": json.dumps({}),
            "description": "B4: bill every due, not yet billed period (idempotent).",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_reductions_and_billing"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
