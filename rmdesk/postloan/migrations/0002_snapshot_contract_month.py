# Portfolio quality reads a unit's loans' month-end snapshots by loan: a covering index (postloan.queries.portfolio).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("postloan", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="classificationsnapshot",
            index=models.Index(
                fields=["contract", "month", "classification", "outstanding_principal", "overdue_principal"],
                name="snapshot_contract_month",
            ),
        ),
    ]
