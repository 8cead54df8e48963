"""V14 (INB-006) in the validation registry of a database migrated before it existed:
0002 seeds the rules it knew then; this adds the missing ones with their defaults and
never changes a rule or setting that is there (an accountant's choices stay)."""

from importlib import import_module

from django.db import migrations


def seed_missing(apps, schema_editor):
    import_module("revenue.migrations.0002_registry_and_jobs").registry_seed(apps)


class Migration(migrations.Migration):
    dependencies = [("revenue", "0010_ledger_totals")]

    operations = [migrations.RunPython(seed_missing, migrations.RunPython.noop)]
