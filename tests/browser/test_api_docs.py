"""The API's documentation page (Swagger UI, served from our own static files) renders in
Chromium under the site's strict Content Security Policy: the `page` fixture fails the test on
any violation or uncaught error."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect


def test_the_api_docs_list_the_operations_under_the_strict_policy(
    live_server: Any, page: Page
) -> None:
    page.goto(f"{live_server.url}/api/docs")

    operations = page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = set(operations.all_inner_texts())
    assert {"/api/customers", "/api/invoices", "/api/payments", "/api/promises"} <= paths
    page.locator(".opblock-summary", has_text="/api/customers").first.click()
    expect(page.locator(".opblock-body").first).to_contain_text("cursor")
