"""The account history is append-only (invariant 5): the database itself refuses UPDATE, DELETE and
TRUNCATE on ledger_activity unless a row exists in dunwell_history_bypass, which only the test
suite writes (so that flushing between tests works). Production never has such a row."""

from django.db import migrations

SQLITE = [
    "CREATE TABLE IF NOT EXISTS dunwell_history_bypass (reason TEXT NOT NULL)",
    """CREATE TRIGGER ledger_activity_no_update BEFORE UPDATE ON ledger_activity
       WHEN NOT EXISTS (SELECT 1 FROM dunwell_history_bypass)
       BEGIN SELECT RAISE(ABORT, 'ledger_activity is append-only: add a correcting entry instead'); END""",
    """CREATE TRIGGER ledger_activity_no_delete BEFORE DELETE ON ledger_activity
       WHEN NOT EXISTS (SELECT 1 FROM dunwell_history_bypass)
       BEGIN SELECT RAISE(ABORT, 'ledger_activity is append-only: add a correcting entry instead'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_activity_no_update",
    "DROP TRIGGER IF EXISTS ledger_activity_no_delete",
    "DROP TABLE IF EXISTS dunwell_history_bypass",
]
POSTGRES = [
    "CREATE TABLE IF NOT EXISTS dunwell_history_bypass (reason TEXT NOT NULL)",
    """CREATE OR REPLACE FUNCTION dunwell_refuse_history_change() RETURNS trigger AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM dunwell_history_bypass) THEN
           IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'ledger_activity is append-only: add a correcting entry instead';
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER ledger_activity_append_only BEFORE UPDATE OR DELETE ON ledger_activity
       FOR EACH ROW EXECUTE FUNCTION dunwell_refuse_history_change()""",
    """CREATE TRIGGER ledger_activity_no_truncate BEFORE TRUNCATE ON ledger_activity
       FOR EACH STATEMENT EXECUTE FUNCTION dunwell_refuse_history_change()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS ledger_activity_append_only ON ledger_activity",
    "DROP TRIGGER IF EXISTS ledger_activity_no_truncate ON ledger_activity",
    "DROP FUNCTION IF EXISTS dunwell_refuse_history_change()",
    "DROP TABLE IF EXISTS dunwell_history_bypass",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
