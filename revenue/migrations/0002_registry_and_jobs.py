"""Seed the validation registry (V1–V13), the profile settings and the beat jobs (I6, S2)."""

import json

from django.db import migrations


def registry_seed(apps):
    """The validation rules and profile settings the code knows, created when missing;
    one already there is never changed (also run by 0011 for rules added since)."""
    from revenue.services.settings import PROFILE, RULES

    Rule = apps.get_model("revenue", "ValidationRule")
    Setting = apps.get_model("revenue", "ProfileSetting")
    for sort, (rule, code, message, types, enabled, can_disable, reviewed) in enumerate(RULES):
        Rule.objects.get_or_create(
            code=code,
            defaults={
                "rule": rule,
                "message": message,
                "line_types": types,
                "enabled": enabled,
                "default_enabled": enabled,
                "can_disable": can_disable,
                "skipped_when_reviewed": reviewed,
                "sort": sort,
            },
        )
    for name, default, allowed, description in PROFILE:
        Setting.objects.get_or_create(
            name=name,
            defaults={"value": default, "default": default, "allowed": allowed,
                      "description": description},
        )


def seed(apps, schema_editor):
    registry_seed(apps)
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=5, period="minutes")
    Task.objects.get_or_create(
        name="Revenue: collect inbound lines",
        defaults={
            "task": "revenue.tasks.collect_inbound_task",
            "interval": every,
            "kwargs": json.dumps({}),
            "description": "I6: data collection of staged lines every few minutes.",
        },
    )
    monthly, _ = Crontab.objects.get_or_create(
        minute="15", hour="1", day_of_month="1", month_of_year="*", day_of_week="*",
        timezone="UTC",
    )
    Task.objects.get_or_create(
        name="Revenue: close the period (when AUTO_CLOSE_PERIOD = Y)",
        defaults={
            "task": "revenue.tasks.close_period_task",
            "crontab": monthly,
            "description": "S2: closes the open period once its month ended, if auto-close is on.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
