# The bank's default target scorecard: the 14 characteristics (domain.md §3.2), weights summing to 100, threshold 60.
# Head office edits them afterwards; these are only the starting point.

from decimal import Decimal

from django.db import migrations

# characteristic → weight. The five items data can decide (1, 3, 5, 11, 12) carry 41 of the 100 points.
DEFAULT_WEIGHTS = {1: 8, 2: 8, 3: 10, 4: 7, 5: 10, 6: 6, 7: 6, 8: 10, 9: 8, 10: 6, 11: 5, 12: 8, 13: 4, 14: 4}


def create_default_scorecard(apps, schema_editor):
    Scorecard = apps.get_model("development", "Scorecard")
    ScorecardItem = apps.get_model("development", "ScorecardItem")
    if not Scorecard.objects.exists():
        Scorecard.objects.create(version=1, threshold=Decimal(60))
    for characteristic, weight in DEFAULT_WEIGHTS.items():
        ScorecardItem.objects.get_or_create(
            characteristic=characteristic, defaults={"weight": Decimal(weight), "max_rating": 5}
        )


class Migration(migrations.Migration):
    dependencies = [("development", "0001_initial")]

    operations = [migrations.RunPython(create_default_scorecard, migrations.RunPython.noop)]
