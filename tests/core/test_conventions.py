"""Dunwell's own lint rules (scripts/check_conventions.py) fire where they should, and only there."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_conventions.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_conventions", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


conventions = _load()
SERVICES = "src/dunwell/ledger/services/allocations.py"
VIEWS = "src/dunwell/web/views.py"


def rules_broken(path: str, source: str) -> list[str]:
    return [hit.rule.name for hit in conventions.check_source(path, source)]


@pytest.mark.parametrize("rule", conventions.RULES, ids=lambda rule: rule.name)
def test_every_rule_fires_on_its_bad_example_and_not_on_its_good_one(rule: Any) -> None:
    path = SERVICES if rule.applies_to(SERVICES) else "src/dunwell/ledger/models/invoice.py"
    assert rule.name in rules_broken(path, rule.bad + "\n")
    assert rule.name not in rules_broken(path, rule.good + "\n")


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [
        ("src/dunwell/core/models.py", "rate = models.FloatField(null=True)\n", "no-float-field"),
        ("src/dunwell/core/money.py", "x = float(amount)\n", "no-float-money"),
        ("src/dunwell/terms/rules/fees.py", "x = float(amount)\n", "no-float-money"),
        ("src/dunwell/formats/camt.py", "x = float(node.text)\n", "no-float-money"),
        ("src/dunwell/ledger/queries.py", "now = timezone.now()\n", "no-clock"),
        ("src/dunwell/terms/rules/interest.py", "d = datetime.date.today()\n", "no-clock"),
        ("src/dunwell/cash/services.py", "t = datetime.now(tz=UTC)\n", "no-clock"),
        ("src/dunwell/formats/ofx.py", "d = date.today()\n", "no-clock"),
        (
            "src/dunwell/ledger/apps.py",
            "from django.db.models.signals import post_save\n",
            "no-signals",
        ),
        ("src/dunwell/web/views.py", "Activity.objects.all().delete()\n", "activity-append-only"),
        (
            "src/dunwell/ledger/services/activity.py",
            "(\n    Activity.objects.filter(item=item)\n    .update(summary='x')\n)\n",
            "activity-append-only",
        ),
        # an f-string's replacement fields are code
        (
            SERVICES,
            'raise Error(f"{plan} is {plan.get_state_display().lower()}")\n',
            "english-labels",
        ),
        (
            "src/dunwell/dunning/pauses.py",
            "label = DisputeReason(reason).label\n",
            "english-labels",
        ),
        (
            "src/dunwell/ledger/models/x.py",
            'x = f"""{\nPlanState.ACTIVE.label}"""\n',
            "english-labels",
        ),
    ],
)
def test_rule_fires(path: str, source: str, rule: str) -> None:
    assert rules_broken(path, source) == [rule]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        # the clock may be read at the edges: views, commands, tasks
        (VIEWS, "as_of = timezone.localdate()\n"),
        ("src/dunwell/ledger/management/commands/aging.py", "as_of = date.today()\n"),
        ("src/dunwell/ledger/tasks.py", "now = timezone.now()\n"),
        # float() is fine outside money, rules, services and formats (e.g. a progress bar)
        ("src/dunwell/core/commands.py", "share = float(done) / total\n"),
        # migrations may change the history table; tests are not scanned
        (
            "src/dunwell/ledger/migrations/0009_redact.py",
            "Activity.objects.filter(pk=1).update(summary='')\n",
        ),
        ("tests/ledger/test_x.py", "Activity.objects.all().delete()\n"),
        # other tables may be updated, and a local called `mydate` is not the clock
        (SERVICES, "Invoice.objects.filter(pk=1).update(status='paid')\n"),
        (SERVICES, "d = mydate.today()\n"),
        # strings and comments are not code
        (SERVICES, '"""Never use date.today() or float() here."""\n'),
        (SERVICES, "x = 1  # FloatField would be wrong, as would post_save\n"),
        (SERVICES, 'x = f"{{date.today()}} and {n} is text"\n'),
        # labels in English, and in the reader's language in the staff UI
        (SERVICES, 'x = f"{english(DisputeReason(reason).label).lower()}"\n'),
        (SERVICES, "labels = {k.value: k.label for k in ActivityKind}\n"),
        (VIEWS, 'flash.success(request, f"{item.get_kind_display()} saved")\n'),
    ],
)
def test_rule_stays_quiet(path: str, source: str) -> None:
    assert rules_broken(path, source) == []


def test_a_line_with_a_reason_is_silenced() -> None:
    source = "Activity.objects.filter(pk=pk).update(summary='')  # convention: ok - GDPR erasure\n"
    assert rules_broken(SERVICES, source) == []


def test_a_silencing_comment_needs_a_reason() -> None:
    source = "Activity.objects.filter(pk=pk).update(summary='')  # convention: ok\n"
    assert rules_broken(SERVICES, source) == ["activity-append-only"]


def test_a_hit_names_file_and_line() -> None:
    source = "def f(as_of):\n    x = 1\n    return date.today()\n"
    (hit,) = conventions.check_source("src/dunwell/terms/rules/due_dates.py", source)
    assert str(hit).startswith("src/dunwell/terms/rules/due_dates.py:3: [no-clock] ")
    assert "return date.today()" in str(hit)


def test_source_that_does_not_parse_is_still_checked_line_by_line() -> None:
    source = "def f(:\n    return float(x)\n"
    assert rules_broken(SERVICES, source) == ["no-float-money"]
