"""Pages load under the content security policy in Chromium without console errors."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Hongshan-Grid-2026"


def errors(page) -> list[str]:
    """Console errors but Chromium's own /favicon.ico probe on admin pages (they link no icon)."""
    return [e for e in page.console_errors if e not in page.favicon_misses]


@pytest.fixture
def watched(page):
    page.favicon_misses = []
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and (msg.location or {}).get("url", "").endswith("/favicon.ico")
            and page.favicon_misses.append(msg.text)
        ),
    )
    failed: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.failed_responses = failed
    return page


def test_public_pages_have_no_csp_errors(watched, live_server) -> None:
    page = watched
    for path in ("/", "/login/", "/admin/login/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        assert "content-security-policy" in response.headers, path
        page.wait_for_load_state("networkidle")
    assert page.failed_responses == []
    assert errors(page) == []


def test_language_switch_and_admin_after_login_have_no_csp_errors(watched, live_server) -> None:
    page = watched
    User.objects.create_user("chief", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    for path in (
        "/admin/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/security/personaldataaccess/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
    # The language switch runs its inline handler (allowed by hash) and reloads in English.
    page.goto(f"{live_server.url}/")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.failed_responses == []
    assert errors(page) == []


def test_lockout_page_has_no_csp_errors(watched, live_server) -> None:
    page = watched
    User.objects.create_user("clerk", password=PASSWORD)
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.fill("#id_username", "clerk")
        page.fill("#id_password", "Wrong-Password-1")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    assert "账号已暂时锁定" in page.content()
    # The 429 answer itself is logged by Chromium as a failed resource; nothing else may be.
    assert [e for e in errors(page) if "429" not in e] == []
