"""The smallest journey through a real browser: a user signs in and lands on the home page."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect


def test_user_signs_in_and_lands_on_home(
    live_server: Any, page: Page, django_user_model: Any
) -> None:
    django_user_model.objects.create_user(username="ada", password="ledger-and-quill-42")

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "ada")
    page.fill("#id_password", "ledger-and-quill-42")
    page.locator("form:has(#id_password) [type=submit]").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("body")).to_contain_text("Dunwell")
