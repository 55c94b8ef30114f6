"""The timeline's index (issue 4, the history).

The timeline pages read the existing (company, customer, recorded_at) and (item, recorded_at)
indexes (EXPLAIN in benchmarks/RESULTS.md). What they lacked is a way to find the corrections of
the entries shown without reading the customer's whole history: a partial index on the
CORRECTION rows only, which the import's and the dunning run's many inserts never touch
(each insert only evaluates `kind = 799`). `kind` is in the key although the condition fixes
it: with three equalities SQLite's planner picks this index over (company, customer, recorded_at).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_case_activity_kinds")]

    operations = [
        migrations.AddIndex(
            model_name="activity",
            index=models.Index(
                condition=models.Q(("kind", 799)),
                fields=["company", "customer", "kind"],
                name="activity_corrections",
            ),
        ),
    ]
