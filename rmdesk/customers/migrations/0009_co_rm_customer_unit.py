"""A co-RM link holds its customer's owning unit, which the database keeps (customers/listing.py says why).

Triggers, so that no code path can leave it behind: a link inserted without it gets the customer's (the demo loader
writes it itself, as its customers' indexes do not exist yet); a customer whose owning unit changes takes its links
with it. Existing links are filled in here.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BACKFILL = """
UPDATE customers_customercorm SET customer_unit_id = (
    SELECT owning_unit_id FROM customers_customer WHERE customers_customer.id = customers_customercorm.customer_id
)
"""

SQLITE = [
    """
    CREATE TRIGGER customers_co_rm_unit_given AFTER INSERT ON customers_customercorm
    WHEN NEW.customer_unit_id IS NULL
    BEGIN
        UPDATE customers_customercorm
        SET customer_unit_id = (SELECT owning_unit_id FROM customers_customer WHERE id = NEW.customer_id)
        WHERE id = NEW.id;
    END
    """,
    """
    CREATE TRIGGER customers_customer_moved AFTER UPDATE OF owning_unit_id ON customers_customer
    WHEN NEW.owning_unit_id IS NOT OLD.owning_unit_id
    BEGIN
        UPDATE customers_customercorm SET customer_unit_id = NEW.owning_unit_id WHERE customer_id = NEW.id;
    END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS customers_co_rm_unit_given",
    "DROP TRIGGER IF EXISTS customers_customer_moved",
]

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION customers_co_rm_unit_given() RETURNS trigger AS $$
    BEGIN
        IF NEW.customer_unit_id IS NULL THEN
            NEW.customer_unit_id := (SELECT owning_unit_id FROM customers_customer WHERE id = NEW.customer_id);
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER customers_co_rm_unit_given BEFORE INSERT ON customers_customercorm
        FOR EACH ROW EXECUTE FUNCTION customers_co_rm_unit_given()
    """,
    """
    CREATE OR REPLACE FUNCTION customers_customer_moved() RETURNS trigger AS $$
    BEGIN
        UPDATE customers_customercorm SET customer_unit_id = NEW.owning_unit_id WHERE customer_id = NEW.id;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER customers_customer_moved AFTER UPDATE OF owning_unit_id ON customers_customer
        FOR EACH ROW WHEN (NEW.owning_unit_id IS DISTINCT FROM OLD.owning_unit_id)
        EXECUTE FUNCTION customers_customer_moved()
    """,
]
POSTGRESQL_REMOVE = [
    "DROP TRIGGER IF EXISTS customers_customer_moved ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_customer_moved()",
    "DROP TRIGGER IF EXISTS customers_co_rm_unit_given ON customers_customercorm",
    "DROP FUNCTION IF EXISTS customers_co_rm_unit_given()",
]


def install(apps, schema_editor):
    schema_editor.execute(BACKFILL, params=None)
    for statement in POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in POSTGRESQL_REMOVE if schema_editor.connection.vendor == "postgresql" else SQLITE_REMOVE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_rm_list"),
        ("org", "0002_operations_officer"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="customercorm",
            name="customer_unit",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="org.orgunit",
            ),
        ),
        migrations.AddIndex(
            model_name="customercorm",
            index=models.Index(fields=["user", "customer_unit", "customer"], name="co_rm_user_unit"),
        ),
        migrations.RunPython(install, remove),
    ]
