"""I9: beat's minute job that resumes the collection runs whose worker died (issue 18).

A run killed with its whole worker is not delivered again before the broker's visibility
timeout (an hour on Redis; never on the filesystem broker); this job finds it (its lease
is free) and finishes it. A tick not taken within a minute expires: the next one does the
same.
"""

import json

from django.db import migrations

NAME = "Revenue: resume collection runs whose worker died"


def seed(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Task.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "revenue.tasks.collection_runs_resume_task",
            "interval": every,
            "kwargs": json.dumps({}),
            "expire_seconds": 60,
            "description": "Resumes a collection run within a minute of its worker dying.",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("revenue", "0017_alter_inboundbatch_source"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
