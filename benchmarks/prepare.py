"""Set up a benchmark database: migrate, one company with its payment terms, its customers.

Run as `python -m benchmarks.prepare CUSTOMERS.csv` with DATABASE_URL pointing at an empty
database; the company is "bench" (EUR, Germany).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

COMPANY = "bench"
AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def main(customers_csv: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dunwell.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from benchmarks.generate import terms_codes
    from dunwell.core.models import Company
    from dunwell.imports.services.common import Options
    from dunwell.imports.services.run import run_import
    from dunwell.terms.services import create_term

    call_command("migrate", verbosity=0)
    company = Company.objects.create(
        code=COMPANY, legal_name="Bench GmbH", country="DE", base_currency="EUR"
    )
    for code, days in terms_codes():
        create_term(company=company, code=code, name=f"Net {days}", days=days,
                    is_default=days == 30)  # fmt: skip
    summary = run_import(
        company=company,
        kind="customers",
        files=[(customers_csv.name, customers_csv.read_bytes())],
        options=Options(),
        actor=None,
        at=AT,
    )
    if not summary.applied:
        raise SystemExit(f"customers import failed: {summary.as_dict(brief=True)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
