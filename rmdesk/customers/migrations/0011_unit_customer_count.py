"""How many customers each unit owns, current and archived, kept by the database (customers.models.UnitCustomerCount).

Triggers, so that no code path can leave the counts behind: every insert, delete, move to another unit and archiving
or restoring of a customer adds to one unit and takes from another. On PostgreSQL they run once per statement over its
rows (transition tables): a bulk insert or the demo load's batches add up per unit once, and a customer edited without
moving or archiving it writes no count and locks none. SQLite runs them per row, in place. Existing customers are
counted here.
"""

from django.db import migrations, models

# Added to a unit's count, inside a trigger: the unit and what to add are NEW's, or OLD's taken away.
SQLITE_ADD = """
        INSERT INTO customers_unitcustomercount (unit_id, current, archived)
        VALUES (NEW.owning_unit_id, NEW.archived_at IS NULL, NEW.archived_at IS NOT NULL)
        ON CONFLICT (unit_id) DO UPDATE
        SET current = current + excluded.current, archived = archived + excluded.archived;
"""
SQLITE_TAKE = """
        UPDATE customers_unitcustomercount
        SET current = current - (OLD.archived_at IS NULL), archived = archived - (OLD.archived_at IS NOT NULL)
        WHERE unit_id = OLD.owning_unit_id;
"""
SQLITE = [
    f"CREATE TRIGGER customers_unit_count_insert AFTER INSERT ON customers_customer BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER customers_unit_count_delete AFTER DELETE ON customers_customer BEGIN {SQLITE_TAKE} END",
    f"""
    CREATE TRIGGER customers_unit_count_update AFTER UPDATE OF owning_unit_id, archived_at ON customers_customer
    WHEN NEW.owning_unit_id IS NOT OLD.owning_unit_id OR (NEW.archived_at IS NULL) IS NOT (OLD.archived_at IS NULL)
    BEGIN {SQLITE_TAKE} {SQLITE_ADD} END
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS customers_unit_count_insert",
    "DROP TRIGGER IF EXISTS customers_unit_count_delete",
    "DROP TRIGGER IF EXISTS customers_unit_count_update",
]

# PostgreSQL: one function per event, each over the statement's rows (transition tables), adding to the units' rows in
# unit order (two statements adding to the same units lock them in the same order). A delta for a unit not counted
# yet inserts its row.
UPSERT = """
    INSERT INTO customers_unitcustomercount AS c (unit_id, current, archived)
    SELECT unit_id, sum(current), sum(archived) FROM moves GROUP BY unit_id ORDER BY unit_id
    ON CONFLICT (unit_id) DO UPDATE
    SET current = c.current + EXCLUDED.current, archived = c.archived + EXCLUDED.archived;
"""
MOVES = {
    "added": """
        SELECT owning_unit_id, (archived_at IS NULL)::int, (archived_at IS NOT NULL)::int FROM new_rows
    """,
    "removed": """
        SELECT owning_unit_id, -(archived_at IS NULL)::int, -(archived_at IS NOT NULL)::int FROM old_rows
    """,
    # Only the rows moved to another unit, archived or restored: any other edit writes no count and locks none.
    "changed": """
        SELECT o.owning_unit_id, -(o.archived_at IS NULL)::int, -(o.archived_at IS NOT NULL)::int
        FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE o.owning_unit_id IS DISTINCT FROM n.owning_unit_id OR (o.archived_at IS NULL) <> (n.archived_at IS NULL)
        UNION ALL
        SELECT n.owning_unit_id, (n.archived_at IS NULL)::int, (n.archived_at IS NOT NULL)::int
        FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE o.owning_unit_id IS DISTINCT FROM n.owning_unit_id OR (o.archived_at IS NULL) <> (n.archived_at IS NULL)
    """,
}
EVENTS = {
    "added": ("INSERT", "NEW TABLE AS new_rows"),
    "removed": ("DELETE", "OLD TABLE AS old_rows"),
    "changed": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
}
POSTGRESQL = [
    statement
    for name, (event, tables) in EVENTS.items()
    for statement in (
        f"""
        CREATE OR REPLACE FUNCTION customers_unit_count_{name}() RETURNS trigger AS $$
        BEGIN
            WITH moves (unit_id, current, archived) AS ({MOVES[name]}) {UPSERT}
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """,
        f"""
        CREATE TRIGGER customers_unit_count_{name} AFTER {event} ON customers_customer
        REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION customers_unit_count_{name}()
        """,
    )
]
POSTGRESQL_REMOVE = [
    statement
    for name in EVENTS
    for statement in (
        f"DROP TRIGGER IF EXISTS customers_unit_count_{name} ON customers_customer",
        f"DROP FUNCTION IF EXISTS customers_unit_count_{name}()",
    )
]
BACKFILL = """
    INSERT INTO customers_unitcustomercount (unit_id, current, archived)
    SELECT owning_unit_id, sum(CASE WHEN archived_at IS NULL THEN 1 ELSE 0 END),
           sum(CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END)
    FROM customers_customer GROUP BY owning_unit_id
"""


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(BACKFILL, params=None)
    for statement in POSTGRESQL if vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    for statement in POSTGRESQL_REMOVE if schema_editor.connection.vendor == "postgresql" else SQLITE_REMOVE:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0010_gram_statistics"),
        ("org", "0002_operations_officer"),
    ]

    operations = [
        migrations.CreateModel(
            name="UnitCustomerCount",
            fields=[
                (
                    "unit",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="org.orgunit",
                    ),
                ),
                ("current", models.IntegerField(default=0)),
                ("archived", models.IntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, remove),
    ]
