# Quick search: the units holding an RM's customers, read on an index alone (customers.queries._scope_units).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0002_search"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["primary_rm", "owning_unit"], name="customer_rm_unit"),
        ),
    ]
