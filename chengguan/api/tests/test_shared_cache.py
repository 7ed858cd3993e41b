"""With the Redis cache, two app-server processes share one rate limit and one key token.

Each process is a separate Python interpreter with its own Django, as two gunicorn workers
are; they share nothing but Redis. Skipped, with the reason, when no Redis answers on
CHENGGUAN_TEST_REDIS_URL (default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("CHENGGUAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[3]

# One "app server": its own settings, a few Open311 reads (no database needed: the discovery
# document) and, when asked, the keys' token as it reads it.
WORKER = """
import json, sys
import django
django.setup()
from django.test import Client
from chengguan.api import shared
client = Client(REMOTE_ADDR="203.0.113.9")
statuses = [client.get("/open311/v2/discovery.json").status_code for _ in range(int(sys.argv[1]))]
print(json.dumps({"statuses": statuses, "token": shared.tokens(["apikeys"])[0]["apikeys"],
                  "shared": shared.is_shared()}))
"""


def redis_or_skip() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # no server, refused, wrong password: say which
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}: {exc})")


def run_worker(tmp_path: Path, prefix: str, hits: int, rate: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHENGGUAN_", "DATABASE_URL"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chengguan.settings",
            "CHENGGUAN_CACHE": "redis",
            "CHENGGUAN_CACHE_URL": REDIS_URL,
            "CHENGGUAN_CACHE_PREFIX": prefix,  # this test's own keys
            "CHENGGUAN_API_RATE": rate,
            "CHENGGUAN_VAR_DIR": str(tmp_path),
            "CHENGGUAN_QUEUE_IMMEDIATE": "1",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(hits)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_two_processes_share_one_rate_limit(tmp_path: Path) -> None:
    redis_or_skip()
    prefix = f"cgtest{secrets.token_hex(4)}"
    # 5 a day per address: a window boundary cannot fall between the two processes in practice.
    first = run_worker(tmp_path, prefix, 3, "5/d")
    second = run_worker(tmp_path, prefix, 3, "5/d")
    assert first["shared"] is True
    assert first["statuses"] == [200, 200, 200]
    # The second process counts on from the first one's three: 4th and 5th pass, 6th is refused.
    assert second["statuses"] == [200, 200, 429]
    alone = run_worker(tmp_path, f"{prefix}x", 3, "5/d")  # another cache: another count
    assert alone["statuses"] == [200, 200, 200]


def test_a_key_revoked_elsewhere_stops_working_here(transactional_db: object) -> None:
    """What another process's revocation looks like from this one: the database row changes
    (here without this process's signals, as a query from elsewhere) and the keys' token is
    renewed; the key this process remembered is refused on its next use."""
    from chengguan.api import auth, shared
    from chengguan.api.models import ApiKey, Scope

    key, raw = ApiKey.issue("elsewhere", [Scope.OPEN311_WRITE])
    assert auth.find_key(raw) is not None
    assert auth.find_key(raw) is not None  # remembered now
    ApiKey.objects.filter(pk=key.pk).update(active=False)  # no signal in this process
    assert auth.find_key(raw) is not None  # nothing told this process yet: still remembered
    shared._renew((auth.KEYS_TOKEN,))  # what the revoking process does when it commits
    assert auth.find_key(raw) is None


def test_saving_a_key_renews_the_token_when_it_commits(transactional_db: object) -> None:
    from django.db import transaction

    from chengguan.api import auth, shared
    from chengguan.api.models import ApiKey, Scope

    key, raw = ApiKey.issue("mine", [Scope.OPEN311_WRITE])
    auth.find_key(raw)
    before = shared.tokens([auth.KEYS_TOKEN])[0][auth.KEYS_TOKEN]
    assert before is not None
    with transaction.atomic():
        key.revoke()
        assert shared.tokens([auth.KEYS_TOKEN])[0][auth.KEYS_TOKEN] == before  # not before commit
    assert shared.tokens([auth.KEYS_TOKEN])[0][auth.KEYS_TOKEN] != before
    assert auth.find_key(raw) is None
