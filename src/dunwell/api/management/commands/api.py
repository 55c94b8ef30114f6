"""`dunwell api token-add|token-list|token-revoke`: tokens for the REST API under /api/.

dunwell api token-add --name "ERP sync" --scopes read,write --days 365   # shows the token once
dunwell api token-list --format json
dunwell api token-revoke 1a2b3c4d                                           # by its prefix
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from dunwell.api import tokens
from dunwell.api.models import ApiToken
from dunwell.core.management.base import DunwellCommand


class Command(DunwellCommand):
    help = "API tokens: issue one (shown once), list them, revoke one."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True,
                                        metavar="{token-add,token-list,token-revoke}")  # fmt: skip
        add = actions.add_parser("token-add", help="issue a token (its text is shown once)")
        add.add_argument("--name", required=True, help="what uses it, e.g. 'ERP sync'")
        add.add_argument("--scopes", default="read", help="read, write or read,write")
        add.add_argument("--days", type=int, default=365, help="valid this long (0: no end)")
        actions.add_parser("token-list", help="the company's tokens (never their text)")
        revoke = actions.add_parser("token-revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")
        self.add_to_each(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        company = self.company(options["company"])
        if options["action"] == "token-add":
            token, text = tokens.issue(company=company, name=options["name"],
                                       scopes=[s.strip() for s in options["scopes"].split(",")],
                                       days=options["days"] or None, actor=None, at=self.now())  # fmt: skip
            if options["format"] == "json":
                self.emit_json({**_row(token), "token": text})
            else:
                self.stdout.write(f"{text}\n(shown once: keep it in the other system's secrets; "
                                  f"prefix {token.prefix}, {', '.join(token.scopes)})")  # fmt: skip
            return
        if options["action"] == "token-list":
            rows = [_row(t) for t in ApiToken.objects.filter(company=company).order_by("pk")]
            if options["format"] == "json":
                self.emit_json(rows)
            else:
                self.stdout.write("\n".join(
                    f"{r['prefix']}  {r['name']}  {','.join(r['scopes'])}  expires "
                    f"{r['expires_at'] or 'never'}{'  revoked' if r['revoked_at'] else ''}"
                    for r in rows) or "no tokens")  # fmt: skip
            return
        found = ApiToken.objects.filter(company=company, prefix=options["prefix"]).first()
        if found is None:
            raise CommandError(f"no token {options['prefix']!r} in {company.code}")
        tokens.revoke(token=found, at=self.now())
        if options["format"] == "json":
            self.emit_json({"prefix": found.prefix, "revoked": True})
        else:
            self.stdout.write(f"token {found.prefix} revoked")


def _row(t: ApiToken) -> dict[str, Any]:
    return {"prefix": t.prefix, "name": t.name, "scopes": t.scopes, "created_at": t.created_at,
            "expires_at": t.expires_at, "revoked_at": t.revoked_at,
            "last_used_at": t.last_used_at}  # fmt: skip
