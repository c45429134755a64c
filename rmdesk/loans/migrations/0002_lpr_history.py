"""The published LPR history since the reform of August 2019: the dates on which either tenor changed, with both
tenors' rates from that date (the National Interbank Funding Center publishes on the 20th, or the next working day).
Head office adds later publications on the LPR page or through the API."""

from decimal import Decimal

from django.db import migrations

# (published on, 1-year %, over-5-year %)
LPR_HISTORY = [
    ("2019-08-20", "4.25", "4.85"),
    ("2019-09-20", "4.20", "4.85"),
    ("2019-11-20", "4.15", "4.80"),
    ("2020-02-20", "4.05", "4.75"),
    ("2020-04-20", "3.85", "4.65"),
    ("2021-12-20", "3.80", "4.65"),
    ("2022-01-20", "3.70", "4.60"),
    ("2022-05-20", "3.70", "4.45"),
    ("2022-08-22", "3.65", "4.30"),
    ("2023-06-20", "3.55", "4.20"),
    ("2023-08-21", "3.45", "4.20"),
    ("2024-02-20", "3.45", "3.95"),
    ("2024-07-22", "3.35", "3.85"),
    ("2024-10-21", "3.10", "3.60"),
    ("2025-05-20", "3.00", "3.50"),
]


def load(apps, schema_editor):
    LprRate = apps.get_model("loans", "LprRate")
    rows = []
    for published_on, one_year, five_year in LPR_HISTORY:
        rows.append(LprRate(tenor="1y", published_on=published_on, rate_pct=Decimal(one_year)))
        rows.append(LprRate(tenor="5y", published_on=published_on, rate_pct=Decimal(five_year)))
    LprRate.objects.bulk_create(rows, ignore_conflicts=True)


def unload(apps, schema_editor):
    LprRate = apps.get_model("loans", "LprRate")
    for published_on, _one_year, _five_year in LPR_HISTORY:
        LprRate.objects.filter(published_on=published_on, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("loans", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
