"""`dunwell webhooks add|list|deliver|log|replay|deactivate|reactivate`: events out to other systems.

dunwell webhooks add --url https://erp.example/dunwell --events payment.applied,dispute.opened
dunwell webhooks list --format json          # subscriptions with their secrets
dunwell webhooks deliver                     # queue new events, send what is due (cron, worker)
dunwell webhooks log --failed                # the delivery log
dunwell webhooks replay 42                   # send delivery 42 again
dunwell webhooks deactivate 3                # stop sending to webhook 3 (reactivate resumes)
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.core.management.base import DunwellCommand
from dunwell.core.models import Company
from dunwell.webhooks import services
from dunwell.webhooks.models import Delivery, Subscription


class Command(DunwellCommand):
    help = "Webhooks: subscribe other systems to events, deliver them, read the log, replay."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{add,list,deliver,log,replay,deactivate,"
                                                "reactivate}")  # fmt: skip
        add = actions.add_parser("add", help="subscribe a URL to events")
        add.add_argument("--url", required=True)
        add.add_argument("--events", required=True,
                         help=f"comma-separated, of: {', '.join(services.EVENTS)}")  # fmt: skip
        for name, text in (("list", "the subscriptions"), ("deliver", "queue and send now"),
                           ("log", "the delivery log"), ("replay", "send a delivery again"),
                           ("deactivate", "stop sending to a webhook"),
                           ("reactivate", "send to a webhook again, from where it stopped")):  # fmt: skip
            sub = actions.add_parser(name, help=text)
            if name == "log":
                sub.add_argument("--failed", action="store_true", help="only those not delivered")
            if name == "replay":
                sub.add_argument("delivery", type=int)
            if name in ("deactivate", "reactivate"):
                sub.add_argument("webhook", type=int)
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        action = options["action"]
        if action == "add":
            made = services.subscribe(company=company, url=options["url"],
                                      events=[e.strip() for e in options["events"].split(",")
                                              if e.strip()], actor=None, at=self.now())  # fmt: skip
            self._out(options, [_subscription(made)],
                      f"webhook {made.pk}: {made.url} for {', '.join(made.events)}; "
                      f"its secret (for checking Dunwell-Signature): {made.secret}")  # fmt: skip
        elif action == "list":
            rows = [_subscription(s) for s in Subscription.objects.filter(company=company)]
            self._out(options, rows, "\n".join(
                f"{r['id']}  {r['url']}  {', '.join(r['events'])}" for r in rows) or "none")  # fmt: skip
        elif action == "deliver":
            queued = services.enqueue(company=company, at=self.now())
            report = services.deliver(at=self.now(), company=company)
            row = {"queued": queued, "sent": report.sent, "retrying": report.retrying,
                   "failed": report.failed, "errors": report.errors}  # fmt: skip
            self._out(options, row, f"{queued} queued, {report.sent} sent, {report.retrying} to "
                      f"retry, {report.failed} failed" + "".join(f"\n{e}" for e in report.errors))  # fmt: skip
        elif action == "log":
            rows = [_delivery(d) for d in services.log(company, failed_only=options["failed"])]
            self._out(options, rows, "\n".join(
                f"{r['id']}  {r['event']}  {r['status']}  attempts {r['attempts']}  "
                f"{r['last_error']}" for r in rows) or "nothing delivered yet")  # fmt: skip
        elif action in ("deactivate", "reactivate"):
            self._switch(company, options)
        else:
            found = Delivery.objects.filter(pk=options["delivery"],
                                            subscription__company=company).first()  # fmt: skip
            if found is None:
                raise CommandError(f"no delivery {options['delivery']} in {company.code}")
            replayed = services.replay(delivery=found, at=self.now())
            self._out(options, _delivery(replayed), f"delivery {replayed.pk} queued again")

    def _switch(self, company: Company, options: dict[str, Any]) -> None:
        sub = Subscription.objects.filter(pk=options["webhook"], company=company).first()
        if sub is None:
            raise CommandError(f"no webhook {options['webhook']} in {company.code}")
        change = services.deactivate if options["action"] == "deactivate" else services.reactivate
        changed = change(subscription=sub, actor=None, at=self.now())  # a refusal: base command
        self._out(options, _subscription(changed),
                  f"webhook {changed.pk} {'active' if changed.active else 'inactive'}")  # fmt: skip

    def _out(self, options: dict[str, Any], payload: Any, text: str) -> None:
        if options["format"] == "json":
            self.emit_json(payload)
        else:
            self.stdout.write(text)


def _subscription(s: Subscription) -> dict[str, Any]:
    return {"id": s.pk, "url": s.url, "events": s.events, "active": s.active, "secret": s.secret}


def _delivery(d: Delivery) -> dict[str, Any]:
    return {"id": d.pk, "event": d.event, "status": d.status, "attempts": d.attempts,
            "last_status": d.last_status, "last_error": d.last_error,
            "delivered_at": d.delivered_at, "payload": d.payload}  # fmt: skip
