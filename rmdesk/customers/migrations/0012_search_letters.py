"""Each customer's pinyin and initials keys as one string beside its normalised name (Customer.search_letters): a small
scope's letters search matches them with the names it reads, instead of looking the keys up. Existing customers get
theirs here, computed from their names as every save computes them.

The column is nullable so that SQLite adds it in place: for a column with a default, Django copies the table, and that
drops the triggers on it (customers/0011, the units' customer counts)."""

from django.db import migrations, models

BATCH = 5000


def write_letters(apps, schema_editor):
    from rmdesk.customers.search import search_keys  # pure: safe to call from a migration

    Customer = apps.get_model("customers", "Customer")
    connection = schema_editor.connection
    table = connection.ops.quote_name(Customer._meta.db_table)
    customers = Customer.objects.using(connection.alias).order_by("pk")
    last_id = 0
    with connection.cursor() as cursor:
        while batch := list(customers.filter(pk__gt=last_id).values_list("pk", "name")[:BATCH]):
            last_id = batch[-1][0]
            letters = [(search_keys(name).letters, pk) for pk, name in batch]
            cursor.executemany(f"UPDATE {table} SET search_letters = %s WHERE id = %s", letters)  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_unit_customer_count")]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="search_letters",
            field=models.TextField(null=True, blank=True, editable=False),
        ),
        migrations.RunPython(write_letters, migrations.RunPython.noop, elidable=True),
    ]
