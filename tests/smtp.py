"""A real SMTP server on loopback (aiosmtpd) for the tests that send mail: the `smtp` fixture
(tests/conftest.py) starts one, points Django's SMTP backend at it and yields its `Collector`
(what it received; addresses to refuse; a message to answer "busy")."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage as Email


class Collector:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], Email]] = []
        self.refuse: set[str] = set()
        self.greetings = 0  # EHLOs: one per connection
        self.busy_once_at = 0  # answer the n-th message "421: try later" (and hang up)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.busy_once_at and len(self.received) + 1 == self.busy_once_at:
            self.busy_once_at = 0
            return "421 4.3.2 busy, try later"
        self.received.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted for delivery"


def text_of(email: Email) -> str:
    """The plain-text body as the customer reads it (the wire has CRLF)."""
    return email.get_body(("plain",)).get_content().replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
