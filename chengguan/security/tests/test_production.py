"""The production profile: `manage.py check --deploy` is clean and the secure settings are on."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def clean_env() -> dict[str, str]:
    # Nothing of this test run leaks in (the browser fixture sets DJANGO_ALLOW_ASYNC_UNSAFE).
    return {k: v for k, v in os.environ.items() if not k.startswith(("CHENGGUAN_", "DJANGO_"))}


def production_env(**extra: str) -> dict[str, str]:
    env = clean_env()
    env.update(
        {
            "CHENGGUAN_PROFILE": "production",
            "CHENGGUAN_SECRET_KEY": secrets.token_urlsafe(50),
            "CHENGGUAN_ALLOWED_HOSTS": "chengguan.hongshan.example.gov.cn",
            "CHENGGUAN_CSRF_TRUSTED_ORIGINS": "https://chengguan.hongshan.example.gov.cn",
            "DJANGO_SETTINGS_MODULE": "chengguan.settings",
        }
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_check_deploy_is_clean_in_production() -> None:
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_debug_off_alone_means_production() -> None:
    env = production_env(CHENGGUAN_DEBUG="0")
    del env["CHENGGUAN_PROFILE"]
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_profile_is_not_deployable() -> None:
    # The same check finds the development settings unfit: it does look.
    env = clean_env()
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016", "security.W018"):
        assert warning in result.stderr + result.stdout, warning


def test_production_needs_a_secret_key() -> None:
    env = production_env()
    del env["CHENGGUAN_SECRET_KEY"]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0 and "CHENGGUAN_SECRET_KEY" in result.stderr


PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER", "SECURE_REDIRECT_EXEMPT", "AXES_FAILURE_LIMIT")}))
"""


def test_production_settings() -> None:
    result = run(["-c", PRINT_SETTINGS], production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True and values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["SECURE_SSL_REDIRECT"] is True and values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_REDIRECT_EXEMPT"] == ["^healthz$"]
    assert values["AXES_FAILURE_LIMIT"] == 5
