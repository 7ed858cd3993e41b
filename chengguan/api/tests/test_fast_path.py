"""Key-authenticated API requests take the short middleware chain; pages keep the full one.

What the short chain must still do (security headers, its own deny-all CSP, no cookies) and
what it must not change (a browser session on /api/v1/ without a key is served as before).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory

from chengguan.api.middleware import API_CSP, is_key_request
from chengguan.api.tests.conftest import District, issue

V1 = "/api/v1"


def assert_api_headers(response: Any) -> None:
    assert response["Content-Security-Policy"] == API_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Set-Cookie" not in response and not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_open311_answers_with_the_api_headers_and_no_cookie(client: Client, district: District) -> None:
    for path in ("/open311/v2/discovery.json", "/open311/v2/services.xml", "/open311/v2/nothing.json"):
        response = client.get(path)
        assert response.status_code in (200, 404)
        assert_api_headers(response)
        assert int(response["Content-Length"]) == len(response.content)


def test_rest_with_a_key_takes_the_short_chain(client: Client, district: District) -> None:
    key = issue(["registries:read"])
    response = client.get(f"{V1}/categories/", HTTP_X_API_KEY=key)
    assert response.status_code == 200
    assert_api_headers(response)
    assert client.get(f"{V1}/categories/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200


def test_a_key_request_never_falls_back_to_the_browser_session(client: Client, district: District) -> None:
    """A signed-in operator's cookie beside a key without the scope: the key decides."""
    client.force_login(district.users["operator"])
    assert client.get(f"{V1}/cases/").status_code == 200  # the session alone may read cases
    narrow = issue(["registries:read"])
    assert client.get(f"{V1}/cases/", HTTP_X_API_KEY=narrow).status_code == 403
    assert client.get(f"{V1}/cases/", HTTP_X_API_KEY="cg_nonsense").status_code == 401


def test_a_session_on_the_rest_api_keeps_the_full_chain(client: Client, district: District) -> None:
    client.force_login(district.users["operator"])
    response = client.get(f"{V1}/cases/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] != API_CSP  # the page policy of the full chain
    assert "Cookie" in response.get("Vary", "")  # the session was read
    # CSRF still guards a session's writes (DRF's SessionAuthentication, full chain).
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(district.users["operator"])
    refused = strict.post(f"{V1}/cases/", {}, content_type="application/json")
    assert refused.status_code == 403


def test_pages_keep_every_middleware(client: Client, db: Any) -> None:
    page = client.get("/login/")
    assert page.status_code == 200
    assert "script-src" in page["Content-Security-Policy"] and page["Content-Security-Policy"] != API_CSP
    assert "csrftoken" in page.cookies  # CSRF middleware ran
    assert page["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/open311/v2/requests.json", {}, True),
        ("/api/v1/cases/", {"HTTP_X_API_KEY": "k"}, True),
        ("/api/v1/cases/", {"HTTP_AUTHORIZATION": "api-key k"}, True),
        ("/api/v1/cases/", {"HTTP_AUTHORIZATION": "Bearer k"}, False),
        ("/api/v1/cases/", {}, False),
        ("/api/docs/", {"HTTP_X_API_KEY": "k"}, False),
        ("/admin/", {"HTTP_X_API_KEY": "k"}, False),
        ("/login/", {}, False),
    ],
)
def test_which_requests_are_key_requests(path: str, headers: dict[str, str], expected: bool) -> None:
    assert is_key_request(RequestFactory().get(path, **headers)) is expected


@pytest.mark.parametrize("key", [None, "cg_unknown"])
def test_paths_with_a_line_break_still_answer_in_the_api_formats(
    client: Client, db: Any, key: str | None
) -> None:
    """Found by schemathesis: ``.`` in the catch-all did not match a newline, so Django's HTML
    404 page came back instead of the API's error document."""
    headers = {"HTTP_X_API_KEY": key} if key else {}
    rest = client.get("/api/v1/subscriptions/a%0Ab/deliveries/", **headers)
    assert rest.status_code == 404 and rest.json()["error"]["code"] == "not_found"
    open311 = client.get("/open311/v2/a%0Ab.json", **headers)
    assert open311.status_code == 404 and open311.json()[0]["code"] == 404
