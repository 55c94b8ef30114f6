"""Issue 6: the staff pages down to a tablet, and by keyboard.

Every staff page of the URL conf (tests/urlconf.py: lists, and each page that names a record,
with a record of the small demo), opened by an administrator in Chromium at 768 px (a tablet held
upright) and 1024 px (lying down): none is wider than the window. A table too wide for the
screen scrolls sideways inside its own box; the top bar wraps onto two rows. Screenshots of
each page at 768 px are kept in BROWSER_ARTIFACTS/tablet/.

By keyboard: the first Tab reaches "Skip to content", Enter on it moves the focus into the page,
and the focus ring is visible (an outline, not the browser's nothing).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect
from tests import factories as f
from tests.browser.test_collector_and_portal import ARTIFACTS
from tests.urlconf import company_with_every_record, plain_urls, record_urls

from dunwell.core.models import Membership, Role

AS_OF = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
WIDTHS = (768, 1024)
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The elements sticking out of the window, for the failure message.
WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
               && !e.closest('table.data'))
  .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${e.className}`)"""


def staff_pages(client: Client, urls: list[str]) -> list[str]:
    """The URLs that answer a GET with an HTML page (not a form's POST address, a PDF or a CSV)."""
    pages = []
    for url in urls:
        response = client.get(url)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages.append(url)
    return pages


def sign_in(page: Page, live_server: Any, client: Client) -> None:
    """The browser gets the test client's session (an administrator past the second factor)."""
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])


def test_every_staff_page_fits_a_tablet(live_server: Any, page: Page) -> None:
    company = company_with_every_record(AS_OF, AT)
    admin = User.objects.create_user("tess")
    Membership.objects.create(user=admin, company=company, role=Role.ADMIN)
    client = f.signed_in(Client(), admin)
    records, missing = record_urls(company)
    assert not missing
    pages = staff_pages(client, plain_urls() + records)
    assert {"/", "/customers/", "/worklist/", "/bank/review/", "/dunning/tasks/"} <= set(pages)
    assert len(pages) >= 30
    sign_in(page, live_server, client)
    (ARTIFACTS / "tablet").mkdir(parents=True, exist_ok=True)

    too_wide = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1024})
        for url in pages:
            response = page.goto(live_server.url + url)
            assert response is not None and response.status == 200, url
            expect(page.locator("header.topbar")).to_be_visible()
            if overflow := page.evaluate(OVERFLOW):
                too_wide.append((width, url, overflow, page.evaluate(WIDE)))
            if width == WIDTHS[0]:
                name = url.strip("/").replace("/", "_") or "overview"
                page.screenshot(path=str(ARTIFACTS / "tablet" / f"{name}.png"))
    assert not too_wide, "\n".join(f"{w} px {url}: {px} px too wide ({els})"
                                   for w, url, px, els in too_wide)  # fmt: skip


def test_the_keyboard_skips_to_the_content_with_a_visible_focus(
    live_server: Any, page: Page
) -> None:
    company = f.company()
    user = User.objects.create_user("kai")
    Membership.objects.create(user=user, company=company, role=Role.COLLECTOR)
    sign_in(page, live_server, f.signed_in(Client(), user))
    page.goto(f"{live_server.url}/customers/")

    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the first control of the page itself, not the top bar's
    inside = page.evaluate("() => document.activeElement.closest('main') !== null")
    assert inside
