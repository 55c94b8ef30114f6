"""`dunwell dunning run|policies|standard|hold|release|outbox`: the daily run and what it works with."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from dunwell.cases.services import tracking
from dunwell.core.management.base import DunwellCommand, parse_iso_date
from dunwell.core.models import Company
from dunwell.dunning.defaults import DEFAULTS
from dunwell.dunning.models import Decision, Hold, Message, Outcome, Policy, Template
from dunwell.dunning.rendering import RenderError, render
from dunwell.dunning.services.approvals import approve, reject
from dunwell.dunning.services.charges import waive_fee
from dunwell.dunning.services.delivery import deliver_emails
from dunwell.dunning.services.holds import place_hold, release_hold
from dunwell.dunning.services.letters import print_batch
from dunwell.dunning.services.policies import ensure_default_policy, set_escalation_steps
from dunwell.dunning.services.run import BATCH, RunReport, run_dunning
from dunwell.dunning.services.templates import save_template
from dunwell.ledger.models import Customer, ItemKind, OpenItem
from dunwell.ledger.services.overdue import record_overdue


class Command(DunwellCommand):
    help = "The daily dunning run (decisions and the outbox), policies, holds and the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action",
            required=True,
            metavar=(
                "{run,policies,standard,hold,release,outbox,approvals,approve,reject,deliver,"
                "preview,templates,template,waive,letters,escalation-steps}"
            ),
        )
        run = actions.add_parser("run", help="decide and queue the follow-ups of a business date")
        run.add_argument("--date", type=parse_iso_date, help="business date (default: today)")
        run.add_argument("--dry-run", action="store_true", help="explain, store nothing")
        run.add_argument("--batch", type=int, default=BATCH, help="customers per transaction")
        run.add_argument("--brief", action="store_true", help="the counts, not every decision")
        actions.add_parser("policies", help="the policies and their steps")
        actions.add_parser("standard", help="give the company the standard policy as default")
        hold = actions.add_parser("hold", help="do not dun a customer (or one invoice) until DATE")
        hold.add_argument("--customer", required=True, help="account number")
        hold.add_argument("--invoice", help="invoice number: only this invoice")
        hold.add_argument("--until", required=True, type=parse_iso_date)
        hold.add_argument("--reason", required=True)
        release = actions.add_parser("release", help="end a hold before its date")
        release.add_argument("hold_id", type=int)
        outbox = actions.add_parser("outbox", help="the queued messages")
        outbox.add_argument("--status", help="e.g. pending, approval, sent")
        outbox.add_argument("--date", type=parse_iso_date, help="business date")
        outbox.add_argument("--limit", type=int, default=100)
        actions.add_parser("approvals", help="the decisions that wait for a person")
        approve_ = actions.add_parser("approve", help="release the messages of decisions")
        approve_.add_argument("decision_ids", type=int, nargs="+")
        reject_ = actions.add_parser("reject", help="cancel a decision's messages")
        reject_.add_argument("decision_id", type=int)
        reject_.add_argument("--reason", required=True)
        deliver = actions.add_parser("deliver", help="send the pending emails (one pass)")
        deliver.add_argument("--limit", type=int, default=500)
        preview = actions.add_parser("preview", help="a message's text, with its real data")
        preview.add_argument("message_id", type=int)
        preview.add_argument("--template", help="another template code, e.g. final")
        preview.add_argument("--language", help="another language, e.g. de")
        actions.add_parser("templates", help="the template codes and languages in use")
        template = actions.add_parser("template", help="store the company's own text")
        template.add_argument("--code", required=True, help="e.g. friendly")
        template.add_argument("--language", required=True, help="e.g. en, de, fr")
        template.add_argument("--subject", required=True)
        template.add_argument("--body-file", required=True, type=Path, help="the body, a file")
        waive = actions.add_parser("waive", help="forgive a late fee or interest, with the reason")
        waive.add_argument(
            "number", help="the fee's or interest's number, e.g. FEE-20261123-C001-EUR-3"
        )
        waive.add_argument("--reason", required=True)
        waive.add_argument("--by", required=True, help="the user who decided (username)")
        letters = actions.add_parser("letters", help="the day's letters as one print batch (PDF)")
        letters.add_argument("--date", type=parse_iso_date, help="up to this business date")
        letters.add_argument("--out", required=True, type=Path, help="the PDF; a .csv beside it")
        steps = actions.add_parser(
            "escalation-steps", help="the steps a broken promise and a defaulted plan send"
        )
        steps.add_argument("--policy", required=True, help="the policy's name")
        steps.add_argument(
            "--broken-promise",
            type=_step_number,
            required=True,
            help="a step's sequence, or 'next': the step after the highest reached",
        )
        steps.add_argument("--plan-default", type=_step_number, required=True,
                           help="a step's sequence, or 'next'")  # fmt: skip
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        actions = {
            "run": self._run,
            "standard": self._standard,
            "policies": self._policies,
            "hold": self._hold,
            "release": self._release,
            "outbox": self._outbox,
            "approvals": self._approvals,
            "approve": self._approve,
            "reject": self._reject,
            "deliver": self._deliver,
            "preview": self._preview,
            "templates": self._templates,
            "template": self._template,
            "waive": self._waive,
            "letters": self._letters,
            "escalation-steps": self._escalation_steps,
        }
        actions[options["action"]](company, options)

    def _run(self, company: Company, options: dict[str, Any]) -> None:
        on = options["date"] or self.today(company)
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        at = self.now()
        if not options["dry_run"]:  # promises and plans due today are decided first
            tracking.daily(company=company, on=on, at=at)
        report = run_dunning(company=company, on=on, at=at, dry_run=options["dry_run"],
                             batch=options["batch"], detail=not options["brief"])  # fmt: skip
        if not options["dry_run"]:
            # after the run, not before: its scan maps the company's open items into this
            # process (SQLite's mmap), which the run's two forked parts would hold beside their
            # own (a million invoices: 180 MB more at the peak)
            record_overdue(company=company, on=on, at=at)
        if options["format"] == "json":
            self.emit_json(report.as_dict(brief=options["brief"]))
        elif options["brief"]:
            self.stdout.write(_counts(report) or "nothing due")
        else:
            self._print_run(report)

    def _standard(self, company: Company, options: dict[str, Any]) -> None:
        policy = ensure_default_policy(company, self.now())
        self.stdout.write(f"default policy: {policy.name}")

    def _hold(self, company: Company, options: dict[str, Any]) -> None:
        found = Customer.objects.filter(company=company, account_number=options["customer"]).first()
        if found is None:
            raise CommandError(f"no customer {options['customer']!r} in {company.code}")
        item = None
        if options["invoice"]:
            item = OpenItem.objects.filter(
                company=company, customer=found, kind=ItemKind.INVOICE, number=options["invoice"]
            ).first()
            if item is None:
                raise CommandError(f"{found.account_number} has no invoice {options['invoice']!r}")
        held = place_hold(company=company, customer=found, item=item, until=options["until"],
                          reason=options["reason"], on=self.today(company), at=self.now(),
                          actor=None)  # fmt: skip
        self.stdout.write(f"hold {held.pk}: {held.reason} until {held.until.isoformat()}")

    def _release(self, company: Company, options: dict[str, Any]) -> None:
        hold = Hold.objects.filter(company=company, pk=options["hold_id"]).first()
        if hold is None:
            raise CommandError(f"no hold {options['hold_id']} in {company.code}")
        release_hold(hold=hold, on=self.today(company), at=self.now(), actor=None)
        self.stdout.write(f"hold {hold.pk} released")

    def _approvals(self, company: Company, options: dict[str, Any]) -> None:
        waiting = Decision.objects.filter(company=company, outcome=Outcome.APPROVAL)
        rows: list[dict[str, Any]] = [
            {
                "decision": d.pk,
                "business_date": d.run.business_date.isoformat(),
                "customer": d.customer.account_number,
                "name": d.customer.legal_name,
                "currency": d.currency,
                "step": d.step,
                "reason": d.reason,
                "items": [i["number"] for i in d.items],
            }
            for d in waiting.select_related("run", "customer").order_by("run__business_date", "pk")
        ]
        if options["format"] == "json":
            self.emit_json(rows)
            return
        if not rows:
            self.stdout.write("nothing waits for approval")
        for r in rows:
            self.stdout.write(f"{r['decision']:>6} {r['business_date']} {r['customer']} "
                              f"{r['name']} ({r['currency']}) step {r['step']}: "
                              f"{', '.join(r['items'])}")  # fmt: skip

    def _decision(self, company: Company, pk: int) -> Decision:
        found = Decision.objects.filter(company=company, pk=pk).first()
        if found is None:
            raise CommandError(f"no decision {pk} in {company.code}")
        return found

    def _approve(self, company: Company, options: dict[str, Any]) -> None:
        for pk in options["decision_ids"]:
            released = approve(decision=self._decision(company, pk), actor=None,
                               on=self.today(company), at=self.now())  # fmt: skip
            self.stdout.write(f"decision {pk} approved: {released} message(s) released")

    def _reject(self, company: Company, options: dict[str, Any]) -> None:
        reject(decision=self._decision(company, options["decision_id"]), actor=None,
               on=self.today(company), at=self.now(), reason=options["reason"])  # fmt: skip
        self.stdout.write(f"decision {options['decision_id']} rejected")

    def _deliver(self, company: Company, options: dict[str, Any]) -> None:
        report = deliver_emails(at=self.now(), company=company, limit=options["limit"])
        if options["format"] == "json":
            self.emit_json(report.as_dict())
            return
        self.stdout.write(f"sent {report.sent}, to retry {report.retry}, failed {report.failed}, "
                          f"uncertain {report.uncertain}")  # fmt: skip
        for error in report.errors:
            self.stdout.write(f"  {error}")

    def _preview(self, company: Company, options: dict[str, Any]) -> None:
        message = Message.objects.filter(company=company, pk=options["message_id"]).first()
        if message is None:
            raise CommandError(f"no message {options['message_id']} in {company.code}")
        try:
            subject, body = render(message, code=options["template"], language=options["language"])
        except RenderError as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.emit_json({"subject": subject, "body": body})
        else:
            self.stdout.write(f"Subject: {subject}\n\n{body}")

    def _templates(self, company: Company, options: dict[str, Any]) -> None:
        own = set(Template.objects.filter(company=company).values_list("code", "language"))
        rows = [{"code": code, "language": lang, "source": "company" if (code, lang) in own
                 else "default"} for code, lang in sorted(set(DEFAULTS) | own)]  # fmt: skip
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for r in rows:
            self.stdout.write(f"{r['code']:<14} {r['language']:<4} {r['source']}")

    def _template(self, company: Company, options: dict[str, Any]) -> None:
        try:
            body = options["body_file"].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"--body-file {options['body_file']}: {error}") from None
        stored = save_template(company=company, code=options["code"], language=options["language"],
                               subject=options["subject"], body=body, at=self.now())  # fmt: skip
        self.stdout.write(f"template {stored.code} ({stored.language}) stored")

    def _letters(self, company: Company, options: dict[str, Any]) -> None:
        out: Path = options["out"]
        on = options["date"] or self.today(company)
        batch = print_batch(company=company, on=on, at=self.now(), name=out.stem)
        if batch is None:
            self.stdout.write("no letters to print")
            return
        for error in batch.errors:
            self.stderr.write(error)
        if batch.letters:
            out.write_bytes(batch.pdf)
            out.with_suffix(".csv").write_text(batch.manifest, encoding="utf-8")
            self.stdout.write(f"{batch.letters} letter(s), {batch.pages} page(s): {out} "
                              f"and {out.with_suffix('.csv')}")  # fmt: skip

    def _waive(self, company: Company, options: dict[str, Any]) -> None:
        user = self.user(options["by"])
        waived = waive_fee(company=company, number=options["number"], reason=options["reason"],
                           on=self.today(company), at=self.now(), actor=user)  # fmt: skip
        self.stdout.write(f"{options['number']}: {waived.amount_minor} (minor units) waived")

    def _print_run(self, report: RunReport) -> None:
        buffer = io.StringIO()
        console = Console(file=buffer, width=160, highlight=False)
        kind = "dry run" if report.dry_run else "run"
        console.print(f"{report.company}: dunning {kind} of {report.business_date.isoformat()}")
        if report.already_done:
            console.print("already done today: nothing new (" + _counts(report) + ")")
        elif not report.business_day:
            console.print("not a business day: nothing is sent; the next business day catches up")
        else:
            table = Table()
            for name in ("customer", "currency", "policy", "step", "outcome", "items", "why"):
                table.add_column(name)
            for g in report.groups:
                items = ", ".join(f"{i['number']} ({i['days_overdue']} d)" for i in g.items)
                table.add_row(f"{g.account_number} {g.customer}", g.currency, g.policy,
                              f"{g.step} {g.step_name}", g.outcome, items, g.reason)  # fmt: skip
            console.print(table)
            console.print(_counts(report) or "nothing due")
        self.stdout.write(buffer.getvalue(), ending="")

    def _escalation_steps(self, company: Company, options: dict[str, Any]) -> None:
        policy = Policy.objects.filter(company=company, name=options["policy"]).first()
        if policy is None:
            raise CommandError(f"--policy {options['policy']!r}: no such policy in {company.code}")
        set_escalation_steps(policy=policy, broken_promise_step=options["broken_promise"],
                             plan_default_step=options["plan_default"])  # fmt: skip
        self._policies(company, options)

    def _policies(self, company: Company, options: dict[str, Any]) -> None:
        fmt = options["format"]
        policies = Policy.objects.filter(company=company).prefetch_related("steps")
        rows: list[dict[str, Any]] = [
            {
                "name": p.name,
                "default": p.is_default,
                "min_gap_days": p.min_gap_days,
                "broken_promise_step": p.broken_promise_step,
                "plan_default_step": p.plan_default_step,
                "steps": [
                    {
                        "sequence": s.sequence,
                        "name": s.name,
                        "trigger": (
                            f"{s.after_previous_days} days after step {s.sequence - 1}"
                            if s.after_previous_days is not None
                            else f"{s.offset_days:+d} days from the due date"
                        ),
                        "channels": s.channels,
                        "recipients": s.recipient_roles,
                        "cc": s.cc_roles,
                        "template": s.template,
                        "needs_approval": s.needs_approval,
                    }
                    for s in p.steps.all()
                ],
            }
            for p in policies
        ]
        if fmt == "json":
            self.emit_json(rows)
            return
        if not rows:
            self.stdout.write("no policies yet: `dunwell dunning standard` gives the standard one")
        for p in rows:
            self.stdout.write(f"{p['name']}{' (default)' if p['default'] else ''}, "
                              f"at least {p['min_gap_days']} days between messages")  # fmt: skip
            self.stdout.write(f"  a broken promise sends {_escalation(p['broken_promise_step'])}; "
                              f"a defaulted plan {_escalation(p['plan_default_step'])}")  # fmt: skip
            for s in p["steps"]:
                approval = ", needs approval" if s["needs_approval"] else ""
                self.stdout.write(
                    f"  {s['sequence']}. {s['name']}: {s['trigger']}; {', '.join(s['channels'])} "
                    f"to {', '.join(s['recipients'])}{approval}"
                )

    def _outbox(self, company: Company, options: dict[str, Any]) -> None:
        query = Message.objects.filter(company=company).select_related("customer", "policy")
        if options["status"]:
            query = query.filter(status=options["status"])
        if options["date"]:
            query = query.filter(business_date=options["date"])
        rows: list[dict[str, Any]] = [
            {
                "id": m.pk,
                "business_date": m.business_date.isoformat(),
                "customer": m.customer.account_number,
                "currency": m.currency,
                "policy": m.policy.name,
                "step": m.step,
                "channel": m.channel,
                "template": m.template,
                "language": m.language,
                "to": [r.get("email") or r.get("name") for r in m.recipients],
                "status": m.status,
            }
            for m in query.order_by("-business_date", "customer__account_number")[
                : options["limit"]
            ]
        ]
        if options["format"] == "json":
            self.emit_json(rows)
            return
        if not rows:
            self.stdout.write("the outbox is empty")
        for r in rows:
            self.stdout.write(
                f"{r['id']:>6} {r['business_date']} {r['customer']:<12} {r['currency']} "
                f"step {r['step']} {r['channel']:<6} {r['status']:<9} {', '.join(r['to'])}"
            )


def _step_number(text: str) -> int | None:
    if text == "next":
        return None
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: a step's sequence (1, 2, ...) or 'next'")
    return int(text)


def _escalation(step: int | None) -> str:
    return f"step {step}" if step is not None else "the step after the highest reached"


def _counts(report: RunReport) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(report.counts.items()) if v)
