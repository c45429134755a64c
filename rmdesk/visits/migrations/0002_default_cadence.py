"""The default visit cadence per tier (issue 5): 战略 monthly, 核心 every 2 months, 重点 quarterly, 一般 half-yearly."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

DEFAULT_INTERVALS = {"strategic": 1, "core": 2, "key": 3, "general": 6}


def seed(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    rule = apps.get_model("visits", "CadenceRule")
    for tier, months in DEFAULT_INTERVALS.items():
        rule.objects.get_or_create(tier=tier, defaults={"interval_months": months})


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
