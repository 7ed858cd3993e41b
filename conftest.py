"""Test-suite wiring shared by every app.

`make test` runs the suite twice: on SQLite and on the PostgreSQL named by DATABASE_URL.
When that PostgreSQL cannot be reached the whole PostgreSQL pass is skipped with the reason
printed, never silently; tests marked ``postgres`` are skipped on SQLite with the reason too.
"""

from __future__ import annotations

import os

import pytest

from chengguan.testing import postgres_reachable


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    url = os.environ.get("DATABASE_URL", "")
    on_postgres = url.startswith(("postgres://", "postgresql://"))
    if on_postgres:
        reachable, reason = postgres_reachable(url)
        if not reachable:
            skip = pytest.mark.skip(reason=f"PostgreSQL not reachable: {reason}")
            for item in items:
                item.add_marker(skip)
        return
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL: run with DATABASE_URL=postgres://… (make test-postgres)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip_pg)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright; never a downloaded browser."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    # Playwright's sync API runs an event loop in this thread; the live server's database
    # access happens in its own thread, the test's own ORM calls are synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page whose console errors fail the test that asserts on them."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))  # type: ignore[attr-defined]
    page.set_default_timeout(15_000)
    yield page
    context.close()
