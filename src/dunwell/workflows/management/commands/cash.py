"""`dunwell cash import|accounts|account-add|lines|match|review|confirm|ignore|return|refund|advice`:
bank statements in, matched to invoices; debits booked as returned payments or refunds; remittance
advices stored and made the split of their line. In `workflows` because applying a line is a workflow (`workflows.cash`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import IntegrityError, transaction

from dunwell.cash.models import BankAccount, LineState, StatementLine
from dunwell.cash.models import Proposal as StoredProposal
from dunwell.cash.services.advices import Outcome, store_advice
from dunwell.cash.services.matching import unmatched_credits
from dunwell.cash.services.statements import ImportReport, import_statements
from dunwell.core.errors import DunwellError
from dunwell.core.management.base import DunwellCommand
from dunwell.core.models import Company
from dunwell.core.money import Money
from dunwell.formats.bank import FORMATS
from dunwell.formats.errors import FileRejected
from dunwell.formats.remittance import RemittanceAdvice, parse_pasted, read_remittance_csv
from dunwell.ledger.models import Customer
from dunwell.workflows.cash import (
    apply_line,
    from_stored,
    ignore_line,
    match_lines,
    refund_customer,
    refund_line,
    return_line,
    typed_proposal,
)

ACTIONS = ("import", "accounts", "account-add", "lines", "match", "review", "confirm", "ignore",
           "return", "refund", "advice")  # fmt: skip


class Command(DunwellCommand):
    help = "Bank statements: import camt.053/054, MT940, OFX, BAI2 or CSV files; list accounts and lines."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{" + ",".join(ACTIONS) + "}")  # fmt: skip
        imported = actions.add_parser("import", help="read statement files and store their lines")
        imported.add_argument("files", nargs="+", type=Path)
        imported.add_argument("--file-format", choices=FORMATS,
                              help="the files' format (default: recognised from the content)")  # fmt: skip
        imported.add_argument("--account", help="the account (id or IBAN) of files that name none, "
                              "as CSV exports")  # fmt: skip
        imported.add_argument("--dry-run", action="store_true",
                              help="print the statements and entries read; store nothing")  # fmt: skip
        actions.add_parser("accounts", help="the company's bank accounts")
        added = actions.add_parser("account-add", help="add a bank account statements are filed to")
        added.add_argument("--name", required=True)
        added.add_argument("--iban", default="")
        added.add_argument("--number", default="", help="an account number that is not an IBAN")
        added.add_argument("--currency", required=True)
        added.add_argument("--bic", default="")
        lines = actions.add_parser("lines", help="statement lines, newest first")
        lines.add_argument("--state", choices=LineState.values)
        lines.add_argument("--limit", type=int, default=50)
        actions.add_parser("match", help="match unmatched credit lines; apply the sure ones")
        review = actions.add_parser("review", help="unmatched lines with their ranked proposals")
        review.add_argument("--limit", type=int, default=50)
        confirm = actions.add_parser("confirm", help="apply a line as proposed or as given")
        confirm.add_argument("line", type=int)
        confirm.add_argument("--proposal", type=int, help="the proposal's rank (default 1)")
        confirm.add_argument("--item", action="append", default=[], metavar="NUMBER=AMOUNT",
                             help="put AMOUNT on invoice NUMBER (repeat); the rest stays unapplied")  # fmt: skip
        confirm.add_argument("--by", required=True, help="the user who decided (username)")
        ignore = actions.add_parser("ignore", help="mark a line as not a receivable")
        ignore.add_argument("line", type=int)
        ignore.add_argument("--reason", required=True)
        ignore.add_argument("--by", required=True, help="the user who decided (username)")
        returned = actions.add_parser("return", help="book a debit as the bank's return of an "
                                      "applied payment: its invoices open again")  # fmt: skip
        returned.add_argument("line", type=int)
        returned.add_argument("--original", type=int, help="the applied credit line it returns "
                              "(default: the one with its amount and payer)")  # fmt: skip
        returned.add_argument("--by", required=True, help="the user who decided (username)")
        refund = actions.add_parser("refund", help="book a debit as a refund of a customer's "
                                    "unapplied cash")  # fmt: skip
        refund.add_argument("line", type=int)
        refund.add_argument("--customer", help="the customer's account number (default: the one "
                            "the payee IBAN is known for)")  # fmt: skip
        refund.add_argument("--by", required=True, help="the user who decided (username)")
        advice = actions.add_parser("advice", help="store a remittance advice (CSV, or pasted "
                                    "lines) and make it the split of its statement line")  # fmt: skip
        advice.add_argument("file", nargs="?", type=Path, help="an advice CSV")
        advice.add_argument("--text", help="remittance lines pasted from an email ('-': stdin)")
        advice.add_argument("--line", type=int, help="the statement line it is for (default: "
                            "the one with its amount, date and reference)")  # fmt: skip
        advice.add_argument("--by", help="the user who entered it (username)")
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        action = options["action"]
        handlers = {"import": self._import, "account-add": self._account_add,
                    "review": self._review, "confirm": self._confirm, "return": self._return,
                    "refund": self._refund, "advice": self._advice}  # fmt: skip
        if action in handlers:
            handlers[action](company, options)
        elif action == "accounts":
            rows = [_account(a) for a in BankAccount.objects.filter(company=company).order_by("pk")]
            self._rows(options, rows, "no bank account yet: the first statement of the company's "
                       "own IBAN makes one, or add one with `dunwell cash account-add`")  # fmt: skip
        elif action == "match":
            report = match_lines(company=company, at=self.now())
            if options["format"] == "json":
                self.emit_json(report.as_dict())
                return
            rules = ", ".join(f"{n} by {rule}" for rule, n in sorted(report.by_rule.items()))
            self.stdout.write(f"{report.lines} line(s): {report.applied} applied automatically"
                              f"{f' ({rules})' if rules else ''}, {report.queued} queued for "
                              "review")  # fmt: skip
            if report.returned:
                self.stdout.write(f"{report.returned} debit(s) booked as returned payments")
            for error in report.errors:
                self.stdout.write(f"  {error}")
        elif action == "ignore":
            line = _find_line(company, options["line"])
            try:
                ignore_line(company=company, line=line, reason=options["reason"],
                            actor=self.user(options["by"]), at=self.now())  # fmt: skip
            except DunwellError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"line {line.pk} ignored: {options['reason']}")
        else:
            found = StatementLine.objects.filter(company=company).order_by("-value_on", "-pk")
            if options["state"]:
                found = found.filter(state=options["state"])
            rows = [_line(line) for line in found[: max(options["limit"], 1)]]
            self._rows(options, rows, "no statement lines")

    def _import(self, company: Company, options: dict[str, Any]) -> None:
        reports: list[ImportReport] = []
        account = _find_account(company, options["account"]) if options["account"] else None
        for path in options["files"]:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}") from None
            try:
                reports.append(import_statements(
                    company=company, data=data, file_name=path.name, at=self.now(),
                    file_format=options["file_format"], account=account,
                    dry_run=options["dry_run"],
                ))  # fmt: skip
            except FileRejected as rejected:
                raise CommandError(
                    "\n".join(str(e) for e in rejected.errors) + "\nnothing was imported"
                ) from None
        if options["format"] == "json":
            dry = options["dry_run"]
            self.emit_json([r.as_dict(with_lines=dry) for r in reports])
            return
        for report in reports:
            self._summary(report)

    def _summary(self, report: ImportReport) -> None:
        if report.duplicate_file:
            self.stdout.write(f"{report.file}: imported before (same content): nothing changed")
            return
        state = "dry run, nothing stored" if report.dry_run else "imported"
        self.stdout.write(f"{report.file} ({report.format}): {state}")
        for s in report.statements:
            balance = {None: "no balances", True: "balances reconcile", False: "BALANCES DO NOT "
                       "RECONCILE"}[s.reconciles]  # fmt: skip
            filed = " (already filed: skipped)" if s.already_filed else ""
            self.stdout.write(f"  statement {s.statement_id} of {s.account} {s.currency} "
                              f"{s.opening_on or '?'}..{s.closing_on or '?'}: {s.entries} entries, "
                              f"{s.lines_new} new line(s), {s.lines_known} known; {balance}{filed}")  # fmt: skip
            if report.dry_run:
                for line in s.lines:
                    self.stdout.write(f"    {line['value_on']}  {line['amount']:>14} "
                                      f"{line['counterparty_name'][:30]:30}  {line['text'][:50]}")  # fmt: skip

    def _review(self, company: Company, options: dict[str, Any]) -> None:
        lines = unmatched_credits(company).order_by("value_on", "pk")[: max(options["limit"], 1)]
        proposals: dict[int, list[StoredProposal]] = {}
        for p in StoredProposal.objects.filter(line__in=list(lines)).select_related("customer"):
            proposals.setdefault(p.line_id, []).append(p)
        rows = [{**_line(line), "proposals": [_proposal_row(p) for p in proposals.get(line.pk, [])]}
                for line in lines]  # fmt: skip
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for row in rows:
            self.stdout.write("  ".join(str(v) for k, v in row.items() if k != "proposals"))
            for p in row["proposals"]:
                self.stdout.write(f"    #{p['rank']} {p['confidence']} {p['rule']}: {p['reason']}")
        if not rows:
            self.stdout.write("no lines waiting for review")

    def _confirm(self, company: Company, options: dict[str, Any]) -> None:
        line = _find_line(company, options["line"])
        actor = self.user(options["by"])
        if options["item"] and options["proposal"]:
            raise CommandError("give --proposal or --item, not both")
        if options["item"]:
            pairs = [(t.partition("=")[0], t.partition("=")[2]) for t in options["item"]]
            try:
                proposal = typed_proposal(company=company, line=line, items=pairs,
                                          by=actor.username)  # fmt: skip
            except DunwellError as exc:
                raise CommandError(f"--item: {exc}") from None
        else:
            rank = options["proposal"] or 1
            stored = StoredProposal.objects.filter(line=line, rank=rank).first()
            if stored is None:
                raise CommandError(f"line {line.pk} has no proposal {rank}: see `dunwell cash "
                                   "review`, or give --item NUMBER=AMOUNT")  # fmt: skip
            proposal = from_stored(stored)
        try:
            payment = apply_line(company=company, line=line, proposal=proposal, actor=actor,
                                 at=self.now())  # fmt: skip
        except DunwellError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"line {line.pk} applied as payment {payment.external_id}: "
                          f"{proposal.reason}")  # fmt: skip

    def _return(self, company: Company, options: dict[str, Any]) -> None:
        line = _find_line(company, options["line"])
        original = None if options["original"] is None else _find_line(company, options["original"])
        try:
            done = return_line(company=company, line=line, actor=self.user(options["by"]),
                               at=self.now(), original=original)  # fmt: skip
        except DunwellError as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.emit_json({**_line(done), "returns": done.returns_id, "reason": done.reason})
        else:
            self.stdout.write(f"line {done.pk} returned: {done.reason}")

    def _refund(self, company: Company, options: dict[str, Any]) -> None:
        line = _find_line(company, options["line"])
        if options["customer"]:
            customer = Customer.objects.filter(
                company=company, account_number=options["customer"]
            ).first()
            if customer is None:
                raise CommandError(f"--customer {options['customer']!r}: no customer with that "
                                   "account number")  # fmt: skip
        else:
            customer = refund_customer(company, line)
            if customer is None:
                raise CommandError(f"line {line.pk}: its IBAN is not known for one customer: "
                                   "give --customer ACCOUNT")  # fmt: skip
        try:
            done = refund_line(company=company, line=line, customer=customer,
                               actor=self.user(options["by"]), at=self.now())  # fmt: skip
        except DunwellError as exc:
            raise CommandError(str(exc)) from None
        if options["format"] == "json":
            self.emit_json({**_line(done), "customer": customer.account_number,
                            "reason": done.reason})  # fmt: skip
        else:
            self.stdout.write(f"line {done.pk} refunded: {done.reason}")

    def _advice(self, company: Company, options: dict[str, Any]) -> None:
        if (options["file"] is None) == (options["text"] is None):
            raise CommandError("give an advice FILE.csv or --text, one of them")
        line = None if options["line"] is None else _find_line(company, options["line"])
        actor = self.user(options["by"]) if options["by"] else None
        if options["file"] is not None:
            path: Path = options["file"]
            try:
                advices = read_remittance_csv(path.read_bytes(), file_name=path.name)
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from None
            except FileRejected as rejected:
                raise CommandError("\n".join(str(e) for e in rejected.errors)
                                   + "\nnothing was stored") from None  # fmt: skip
            if line is not None and len(advices) != 1:
                raise CommandError(f"--line: {path.name} holds {len(advices)} advices, not one")
            sources = [f"{path.name}" + (f" line {a.line}" if a.line else "") for a in advices]
        else:
            text = sys.stdin.read() if options["text"] == "-" else options["text"]
            pasted = parse_pasted(text)
            if pasted.errors:
                raise CommandError("\n".join(str(e) for e in pasted.errors)
                                   + "\nnothing was stored") from None  # fmt: skip
            if not pasted.documents:
                raise CommandError("--text: no line with a document number and an amount")
            advices = [RemittanceAdvice("", pasted.documents, amount=pasted.total,
                                        currency=line.currency if line else "")]  # fmt: skip
            sources = ["pasted text"]
        try:
            with transaction.atomic():
                outcomes = [store_advice(company=company, advice=a, source=source, actor=actor,
                                         at=self.now(), line=line)
                            for a, source in zip(advices, sources, strict=True)]  # fmt: skip
        except DunwellError as exc:
            raise CommandError(f"{exc}\nnothing was stored") from None
        rows = [_outcome(o) for o in outcomes]
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for row in rows:
            self.stdout.write(f"{row['advice']}: " + (
                f"the split of line {row['line']} (confirm with `dunwell cash confirm "
                f"{row['line']} --by USER`)" if row["proposed"] else f"waits: {row['note']}"))  # fmt: skip

    def _account_add(self, company: Company, options: dict[str, Any]) -> None:
        iban = options["iban"].replace(" ", "").upper()
        number = "" if iban else options["number"].strip()
        if not iban and not number:
            raise CommandError("give --iban or --number")
        try:
            made = BankAccount.objects.create(
                company=company, name=options["name"], iban=iban, account_number=number,
                currency=options["currency"].upper(), bic=options["bic"], created_at=self.now(),
            )  # fmt: skip
        except IntegrityError:
            raise CommandError(f"{iban or number} in {options['currency'].upper()} is already "
                               f"one of {company.code}'s accounts") from None  # fmt: skip
        if options["format"] == "json":
            self.emit_json(_account(made))
        else:
            self.stdout.write(f"added {made}")

    def _rows(self, options: dict[str, Any], rows: list[dict[str, Any]], empty: str) -> None:
        if options["format"] == "json":
            self.emit_json(rows)
            return
        for row in rows:
            self.stdout.write("  ".join(str(v) for v in row.values()))
        if not rows:
            self.stdout.write(empty)


def _outcome(o: Outcome) -> dict[str, Any]:
    return {"advice": str(o.advice), "id": o.advice.pk, "line": o.line.pk if o.line else None,
            "proposed": o.proposed, "note": o.advice.note}  # fmt: skip


def _find_line(company: Company, pk: int) -> StatementLine:
    line = StatementLine.objects.filter(company=company, pk=pk).first()
    if line is None:
        raise CommandError(f"no statement line {pk} in this company")
    return line


def _proposal_row(p: StoredProposal) -> dict[str, Any]:
    return {"rank": p.rank, "confidence": f"{p.confidence / 10:.1f} %", "rule": p.rule,
            "customer": p.customer.account_number, "allocations": p.allocations,
            "unapplied_minor": p.unapplied_minor, "reason": p.reason}  # fmt: skip


def _find_account(company: Company, given: str) -> BankAccount:
    accounts = BankAccount.objects.filter(company=company)
    text = given.replace(" ", "").upper()
    found = (
        accounts.filter(pk=int(text)) if text.isdigit() else accounts.filter(iban=text)
    ).first()
    if found is None:
        known = ", ".join(f"{a.pk} {a}" for a in accounts) or "none"
        raise CommandError(f"--account {given!r}: not one of {company.code}'s bank accounts "
                           f"(known: {known})")  # fmt: skip
    return found


def _account(account: BankAccount) -> dict[str, Any]:
    return {"id": account.pk, "name": account.name, "iban": account.iban,
            "number": account.account_number, "currency": account.currency, "bic": account.bic}  # fmt: skip


def _line(line: StatementLine) -> dict[str, Any]:
    return {
        "id": line.pk, "value_on": line.value_on.isoformat(),
        "amount": str(Money.from_minor(line.amount_minor, line.currency).amount),
        "currency": line.currency, "state": line.state, "payer": line.counterparty_name,
        "iban": line.counterparty_iban, "text": line.text[:140],
        "references": line.structured,
    }  # fmt: skip
