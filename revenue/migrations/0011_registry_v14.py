"""V14 (INB-006) in the validation registry of a database migrated before it existed:
0002 seeds the rules it knew then; this adds the missing ones with their defaults and
never changes a rule or setting that is there (an accountant's choices stay)."""

from django.db import migrations


def seed_missing(apps, schema_editor):
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


class Migration(migrations.Migration):
    dependencies = [("revenue", "0010_ledger_totals")]

    operations = [migrations.RunPython(seed_missing, migrations.RunPython.noop)]
