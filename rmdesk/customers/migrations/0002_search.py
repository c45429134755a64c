# Quick search (issue 3): each customer's normalised name, name grams and pinyin/code keys.

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models

BATCH = 5000


def index_existing_customers(apps, schema_editor):
    """Compute the search rows of the customers already on file, before the indexes exist (faster to build)."""
    from rmdesk.customers.search import Searchable, bulk_search_rows  # pure: safe to call from a migration

    Customer = apps.get_model("customers", "Customer")
    CustomerCoRM = apps.get_model("customers", "CustomerCoRM")
    connection = schema_editor.connection
    q = connection.ops.quote_name
    customer_table = q(Customer._meta.db_table)
    gram_table = q(apps.get_model("customers", "CustomerNameGram")._meta.db_table)
    key_table = q(apps.get_model("customers", "CustomerSearchKey")._meta.db_table)
    last_id = 0
    with connection.cursor() as cursor:
        while True:
            batch = list(
                Customer.objects.using(connection.alias)
                .filter(pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", "name", "credit_code", "owning_unit_id")[:BATCH]
            )
            if not batch:
                break
            last_id = batch[-1][0]
            co_rm_units = {}
            links = CustomerCoRM.objects.using(connection.alias).filter(customer_id__in=[row[0] for row in batch])
            for customer_id, unit_id in links.values_list("customer_id", "user__unit_id"):
                if unit_id is not None:
                    co_rm_units.setdefault(customer_id, []).append(unit_id)
            rows = bulk_search_rows(
                Searchable(pk, name, code, (unit_id, *co_rm_units.get(pk, ()))) for pk, name, code, unit_id in batch
            )
            cursor.executemany(f"UPDATE {customer_table} SET search_name = %s WHERE id = %s", [(n, i) for i, n in rows.names])
            cursor.executemany(
                f"INSERT INTO {gram_table} (customer_id, unit_id, {q('position')}, gram, name_length)"
                " VALUES (%s, %s, %s, %s, %s)",
                rows.grams,
            )
            cursor.executemany(
                f"INSERT INTO {key_table} (customer_id, unit_id, {q('key')}, {q('position')}, name_length)"
                " VALUES (%s, %s, %s, %s, %s)",
                rows.keys,
            )


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0001_initial"),
        ("org", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="search_name",
            field=models.CharField(blank=True, editable=False, max_length=400),
        ),
        migrations.CreateModel(
            name="CustomerNameGram",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField()),
                ("gram", models.CharField(max_length=2)),
                ("name_length", models.PositiveSmallIntegerField()),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="name_grams",
                        to="customers.customer",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="org.orgunit",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="CustomerSearchKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=48)),
                ("position", models.PositiveSmallIntegerField()),
                ("name_length", models.PositiveSmallIntegerField()),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_keys",
                        to="customers.customer",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="org.orgunit",
                    ),
                ),
            ],
        ),
        # Filled before the indexes exist: building an index once is much faster than growing it row by row.
        migrations.RunPython(index_existing_customers, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["search_name"], name="customer_search_name"),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(
                django.db.models.functions.text.Length("search_name"), models.F("id"), name="customer_search_rank"
            ),
        ),
        migrations.AddIndex(
            model_name="customernamegram",
            index=models.Index(fields=["gram", "name_length", "customer", "unit", "position"], name="name_gram_rank"),
        ),
        migrations.AddIndex(
            model_name="customernamegram",
            index=models.Index(fields=["gram", "unit", "name_length", "customer", "position"], name="name_gram_unit"),
        ),
        migrations.AddIndex(
            model_name="customernamegram",
            index=models.Index(fields=["customer", "gram", "position"], name="name_gram_customer"),
        ),
        migrations.AddIndex(
            model_name="customersearchkey",
            index=models.Index(fields=["unit", "key", "name_length", "customer", "position"], name="search_key_unit"),
        ),
        migrations.AddIndex(
            model_name="customersearchkey",
            index=models.Index(fields=["customer", "key", "position", "name_length"], name="search_key_customer"),
        ),
    ]
