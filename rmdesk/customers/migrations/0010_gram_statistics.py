"""PostgreSQL keeps a longer list of the most common name grams, so that it counts a gram's rows rightly.

With the default statistics target (100), a gram of middling frequency is not in the list and is estimated from the
number of distinct grams: 物流 at 1,206 rows where the 1M demo bank has 19,626. Counted that low, a walk of its first
rows in rank order looked dearer than fetching all of them and sorting (50 ms, not 0.5), and checking 256 customers'
other grams by index dearer than hashing a gram's every row. 2,000 grams cover every gram held more than a few hundred
times in the demo bank (13,865 distinct grams in 12.3 million rows); ANALYZE of the table took 7 s there.
SQLite plans these queries by its indexes and has nothing to set.
"""

from django.db import migrations

TABLE, COLUMN = "customers_customernamegram", "gram"


def longer(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET STATISTICS 2000")


def default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_co_rm_customer_unit")]

    operations = [migrations.RunPython(longer, default)]
