"""Statistics for the timeline's text filter on PostgreSQL (issue 4, the history).

The filter "text contains" is Django's `icontains`, on PostgreSQL `UPPER(summary::text) LIKE
UPPER(%s)`. Without statistics on that expression the planner guesses that almost no entry
matches, reads every entry of the customer through a bitmap scan and sorts them (6-10 ms for
10,000 entries); with them it walks the (company, customer, recorded_at) index newest first and
stops at the page's 51st match (0.3 ms). Extended statistics on an expression (PostgreSQL 14 and
later) give the estimate without the cost of an index on every insert. SQLite has no such thing
and needs none: its planner always walks that index (benchmarks/RESULTS.md).
"""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS ledger_activity_summary_upper "
    "ON (upper(summary::text)) FROM ledger_activity"
)
DROP = "DROP STATISTICS IF EXISTS ledger_activity_summary_upper"


def _postgresql(*statements: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_timeline_indexes")]

    operations = [
        # ANALYZE samples a fixed number of rows (a second on a large table), so the new
        # statistics serve at once rather than after autovacuum's next pass
        migrations.RunPython(
            _postgresql(CREATE, "ANALYZE ledger_activity"), _postgresql(DROP), elidable=False
        ),
    ]
