"""The account history is append-only (invariant 5): the database itself refuses UPDATE, DELETE and
TRUNCATE on ledger_activity unless a row exists in dunwell_history_bypass, which only the test
suite writes (so that flushing between tests works). Production never has such a row."""

from django.db import migrations

from dunwell.core.append_only import by_vendor, trigger_statements

FORWARD, REVERSE = trigger_statements(
    "ledger_activity",
    "ledger_activity is append-only: add a correcting entry instead",
    "dunwell_refuse_history_change",
)
for statements in REVERSE.values():
    statements.append("DROP TABLE IF EXISTS dunwell_history_bypass")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(by_vendor(FORWARD), by_vendor(REVERSE))]
