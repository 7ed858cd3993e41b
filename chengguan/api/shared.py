"""State the API shares between app-server processes, kept in Django's cache.

With the production cache (Redis) every gunicorn worker and every app server sees the same
counters and tokens; with the per-process memory cache of the embedded demo (one process)
they are that process's. Two kinds of entries:

* **counters** for rate limits: one Redis round trip per request (``SET … NX EX`` and
  ``INCR`` in one pipeline) instead of the three that ``cache.add`` + ``cache.incr`` cost;
* **generation tokens**: a random string per thing that can change (a case, the API keys, the
  registries). Whoever remembers something derived from it stores the token it read *before*
  reading the database; a change sets a fresh token once its transaction has committed, so
  anything remembered earlier no longer matches. Tokens are random, never counters, so an
  evicted or expired token can never come back equal to an old one.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

TOKEN_TIMEOUT = 3600  # outlives anything stored under it (an expired token only causes a miss)


def _redis(key: str) -> tuple[Any, str] | None:
    """The redis-py client behind Django's RedisCache and the full key, else None."""
    backend: Any = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    full = backend.make_and_validate_key(key)
    # Django's own client object (RedisCache._cache) hands out the pooled redis-py client.
    client = getattr(backend, "_cache").get_client(full, write=True)  # noqa: B009
    return client, full


def is_shared() -> bool:
    """Whether the cache is one store for every process (Redis), not per-process memory."""
    return _redis("probe") is not None


def count(ident: str, period: int) -> tuple[int, float]:
    """Count one hit for ``ident`` in the current fixed window of ``period`` seconds; returns
    the count so far in this window and the seconds left in it."""
    now = time.time()
    key = f"rate:{ident}:{int(now // period)}"
    left = period - (now % period)
    redis = _redis(key)
    if redis is not None:
        client, full = redis
        pipe = client.pipeline(transaction=False)
        pipe.set(full, 0, ex=period + 1, nx=True)
        pipe.incr(full)
        return int(pipe.execute()[1]), left
    if cache.add(key, 1, timeout=period + 1):
        return 1, left
    try:
        return int(cache.incr(key)), left
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        return 1, left


def _token_key(name: str) -> str:
    return f"gen:{name}"


def tokens(names: Iterable[str], extra: Iterable[str] = ()) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Current tokens of ``names`` (None where none is set) and the values of the ``extra``
    cache keys, in one round trip."""
    names = list(names)
    extra = list(extra)
    found = cache.get_many([_token_key(n) for n in names] + extra)
    return {n: found.get(_token_key(n)) for n in names}, {k: found[k] for k in extra if k in found}


def claim_token(name: str) -> str | None:
    """A token for ``name`` that had none: set one if still none is set; None when someone set
    one meanwhile (then what the caller read may already be outdated: do not store it)."""
    fresh = secrets.token_hex(8)
    return fresh if cache.add(_token_key(name), fresh, timeout=TOKEN_TIMEOUT) else None


def _renew(names: tuple[str, ...]) -> None:
    cache.set_many({_token_key(n): secrets.token_hex(8) for n in names}, timeout=TOKEN_TIMEOUT)


def renew_on_commit(*names: str) -> None:
    """Give ``names`` fresh tokens once the current transaction commits (at once outside one):
    a reader that runs between our write and the commit must not store the old state under
    the new token."""
    transaction.on_commit(lambda: _renew(names))
