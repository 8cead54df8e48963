"""Seed the hourly purge of Idempotency-Key records older than 24 hours as a
django-celery-beat job (interchange.md "HTTP API": keys are kept 24 h)."""

import json

from django.db import migrations

NAME = "API: forget Idempotency-Key records older than 24 hours"


def seed(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = Crontab.objects.get_or_create(
        minute="45", hour="*", day_of_month="*", month_of_year="*", day_of_week="*",
        timezone="UTC",
    )
    Task.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "api.tasks.idempotent_requests_purge_task",
            "crontab": hourly,
            "kwargs": json.dumps({}),
            "description": "Deletes the API's Idempotency-Key records (a POST's first "
            "answer, kept for its retries) once they are 24 hours old.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
