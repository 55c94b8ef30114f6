"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

- We launch `/usr/bin/chromium` (installed by scripts/ensure-chromium) and never `playwright install`.
  Without it, every test in this folder is skipped with the reason.
- Playwright runs an event loop in the test thread, so Django's async-safety check must be relaxed
  for the ORM calls that build each test's world.
- `live_server` implies `transactional_db`: the tables are flushed after each test (the history
  table allows it through the test database's bypass, see tests/conftest.py).
- A page fails its test when the browser reports a Content Security Policy violation or an uncaught
  JavaScript error: our pages carry no inline script or style, and that is checked here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

# Chromium logs CSP violations to the console itself; this also reports those it only dispatches
# as DOM events. Scripts added by Playwright are exempt from the page's policy.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} blocked `
    + `${event.blockedURI || "inline code"} at ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture(autouse=True)
def _requires_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-chromium (as root) to install it")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/ensure-chromium (as root) to install it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in a fresh context; fails the test on CSP violations and uncaught errors."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    console_errors: list[str] = []
    page_errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(error: Error) -> None:
        page_errors.append(f"{error.name}: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)

    yield page

    context.close()
    csp = [message for message in console_errors if "Content Security Policy" in message]
    if csp or page_errors:
        lines = [*(f"CSP: {m}" for m in csp), *(f"uncaught: {e}" for e in page_errors)]
        others = [m for m in console_errors if m not in csp]
        lines += [f"(console error: {m})" for m in others]
        pytest.fail("the browser reported problems:\n" + "\n".join(lines), pytrace=False)
