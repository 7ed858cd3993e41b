"""Password rules, login lock-out (our /login/ and the admin), sessions, CSRF and headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from chengguan.demo.builder import ADMIN_PASSWORD
from chengguan.security.conf import LANGUAGE_SWITCH_HANDLER, csp_hash, tile_sources

GOOD = "Hongshan-Grid-2026"
ROOT = Path(__file__).resolve().parents[3]


# --- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1-short", "password_too_short"),
        ("1234567890123", "password_entirely_numeric"),
        ("password123", "password_too_common"),
        ("qwertyuiop", "password_too_common"),
        ("chengguandemo", "password_too_simple"),  # one class only
        ("chengguan-demo", "password_too_simple"),  # the demo password: two classes
        ("Zhangsan1234567", "password_sequence"),
        ("Aaaaaaaa-2026", "password_sequence"),
    ],
)
def test_weak_passwords_are_refused(password: str, code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert code in {error.code for error in refused.value.error_list}


@pytest.mark.parametrize("password", [GOOD, "城管Grid#2026x", "Tq7!mZ2#pL9w", "red-Lantern-47-Pines"])
def test_strong_passwords_pass(password: str) -> None:
    validate_password(password)


@pytest.mark.django_db
def test_password_similar_to_the_account_is_refused() -> None:
    user = User(username="wangxiaoming2", first_name="Wang")
    with pytest.raises(ValidationError):
        validate_password("Wangxiaoming2!", user)


def test_rules_speak_chinese() -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password("abcdefghij-x")
    text = " ".join(str(m) for m in refused.value.messages)
    assert "密码" in text


def test_demo_password_fails_the_rules_but_demo_accounts_are_made_directly() -> None:
    # The demo (chengguan/demo/builder.py) creates its accounts with create_user, which does not
    # run the validators, so `chengguan demo` keeps working with its documented password.
    with pytest.raises(ValidationError):
        validate_password(ADMIN_PASSWORD)
    source = (ROOT / "chengguan" / "demo" / "builder.py").read_text()
    assert "create_superuser(ADMIN_USERNAME" in source and "validate_password" not in source


@pytest.mark.django_db
def test_admin_refuses_a_weak_password_for_a_new_account(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/auth/user/add/",
        {
            "username": "newclerk",
            "password1": "chengguan-demo",
            "password2": "chengguan-demo",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="newclerk").exists()
    assert "密码至少要包含" in response.content.decode()


# --- lock-out ----------------------------------------------------------------------------------


@pytest.fixture
def clerk(db) -> User:
    return User.objects.create_user("clerk", password=GOOD, is_staff=True, is_superuser=True)


def fail(client: Client, url: str, times: int, username: str = "clerk", **extra: str):
    response = None
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "Wrong-Password-1"}, **extra)
    return response


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_five_wrong_passwords_lock_and_the_right_one_is_then_refused(
    clerk: User, client: Client, url: str
) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    first = fail(client, url, 4)
    assert first is not None and first.status_code == 200  # four mistakes: still the form
    locked = fail(client, url, 1)
    assert locked is not None and locked.status_code == 429
    page = locked.content.decode()
    assert "账号已暂时锁定" in page and "30 分钟" in page
    right = client.post(url, {"username": "clerk", "password": GOOD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # the other page is locked as well: the lock is on the account from this address
    other = "/admin/login/" if url == "/login/" else "/login/"
    assert client.post(other, {"username": "clerk", "password": GOOD}).status_code == 429


def test_reset_unlocks(clerk: User, client: Client) -> None:
    fail(client, "/login/", 5)
    assert client.post("/login/", {"username": "clerk", "password": GOOD}).status_code == 429
    call_command("axes_reset_username", "clerk")
    response = client.post("/login/", {"username": "clerk", "password": GOOD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_cool_off_unlocks(clerk: User, client: Client) -> None:
    fail(client, "/login/", 5)
    assert client.post("/login/", {"username": "clerk", "password": GOOD}).status_code == 429
    # Half an hour later (the attempts are dated back instead of waiting).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1)
    )
    response = client.post("/login/", {"username": "clerk", "password": GOOD})
    assert response.status_code == 302


def test_a_success_clears_earlier_mistakes(clerk: User, client: Client) -> None:
    fail(client, "/login/", 4)
    assert client.post("/login/", {"username": "clerk", "password": GOOD}).status_code == 302
    client.post("/logout/")
    fail(client, "/login/", 4)
    assert client.post("/login/", {"username": "clerk", "password": GOOD}).status_code == 302


def test_lock_is_per_address(clerk: User) -> None:
    attacker, colleague = Client(REMOTE_ADDR="203.0.113.9"), Client(REMOTE_ADDR="10.0.0.8")
    fail(attacker, "/login/", 5)
    assert attacker.post("/login/", {"username": "clerk", "password": GOOD}).status_code == 429
    assert colleague.post("/login/", {"username": "clerk", "password": GOOD}).status_code == 302


def test_ajax_lockout_answers_json_in_chinese(clerk: User, client: Client) -> None:
    fail(client, "/login/", 5)
    response = client.post(
        "/login/", {"username": "clerk", "password": GOOD}, headers={"x-requested-with": "XMLHttpRequest"}
    )
    assert response.status_code == 429 and "锁定" in response.json()["detail"]


# --- sessions, CSRF, headers -------------------------------------------------------------------


def test_session_cookie_is_httponly_lax_and_lasts_one_shift(clerk: User, client: Client) -> None:
    response = client.post("/login/", {"username": "clerk", "password": GOOD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 12 * 3600
    assert not cookie["secure"]  # development profile: plain HTTP on 127.0.0.1


POST_FORMS = [
    ("/login/", None),
    ("/admin/login/", None),
    ("/logout/", "clerk"),
    ("/public/complain/", None),
    ("/public/follow/", None),
    ("/public/rate/", None),
    ("/i18n/setlang/", None),
    ("/command/dispatch/", "clerk"),
    ("/m/report/", "clerk"),
]


@pytest.mark.parametrize(("url", "who"), POST_FORMS)
def test_post_without_csrf_token_is_refused(clerk: User, url: str, who: str | None) -> None:
    client = Client(enforce_csrf_checks=True)
    if who:
        client.force_login(clerk)
    response = client.post(url, {"username": "clerk", "password": GOOD, "language": "en"})
    assert response.status_code == 403, url


def test_post_with_the_token_passes_csrf(clerk: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/login/", {"username": "clerk", "password": GOOD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/login/", "/admin/login/", "/public/"])
def test_security_headers(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["style-src"] == "'self'"
    assert csp_hash(LANGUAGE_SWITCH_HANDLER) in directives["script-src"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert "microphone=()" in response["Permissions-Policy"]


def test_csp_matches_what_our_base_template_runs() -> None:
    base = (ROOT / "chengguan" / "web" / "templates" / "web" / "base.html").read_text()
    assert f'onchange="{LANGUAGE_SWITCH_HANDLER}"' in base
    # htmx would add an inline <style> for its indicators, which style-src 'self' blocks.
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in base


INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=\s*[\"']([^\"']*)[\"']", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=[\"']application/(?:ld\+)?json)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def test_our_templates_need_no_other_inline_code() -> None:
    """Every template under chengguan/ works under the CSP: no inline scripts or styles, and
    inline event handlers only those whose hash the policy allows (else move them to a .js file)."""
    allowed = {LANGUAGE_SWITCH_HANDLER}
    problems = []
    for template in sorted((ROOT / "chengguan").glob("*/templates/**/*.html")):
        text = template.read_text()
        where = template.relative_to(ROOT)
        problems += [f"{where}: handler {h!r}" for h in INLINE_HANDLER.findall(text) if h not in allowed]
        problems += [f"{where}: inline <script>" for _ in INLINE_SCRIPT.findall(text)]
        problems += [f"{where}: inline style" for _ in INLINE_STYLE.findall(text)]
    assert not problems, "\n".join(problems)


def test_tile_sources() -> None:
    assert tile_sources("https://tile.openstreetmap.org/{z}/{x}/{y}.png") == [
        "https://tile.openstreetmap.org"
    ]
    assert tile_sources("https://{s}.tile.example.org/{z}/{x}/{y}.png") == ["https://*.tile.example.org"]
    assert tile_sources("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}") == ["https://*.tianditu.gov.cn"]
    assert tile_sources("/static/tiles/{z}/{x}/{y}.png") == []
    assert tile_sources("") == []
