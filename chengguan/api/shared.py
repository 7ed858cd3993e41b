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

import pickle
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

TOKEN_TIMEOUT = 3600  # outlives anything stored under it (an expired token only causes a miss)


def _redis() -> tuple[Any, Callable[[str], str]] | None:
    """A redis-py client on Django's connection pool and the key maker, with the Redis cache.

    Django's RedisCache builds a new redis-py client object for every call (a dictionary of
    some 170 response callbacks each time): more CPU than the round trip on a cached read.
    One client per cache object (Django keeps one per thread) does the same on the same pool.
    Values written here are pickled by this module and read only by it.
    """
    backend: Any = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = getattr(backend, "_chengguan_client", None)
    if client is None:
        client = getattr(backend, "_cache").get_client(write=True)  # noqa: B009
        setattr(backend, "_chengguan_client", client)  # noqa: B010
    return client, backend.make_key


def is_shared() -> bool:
    """Whether the cache is one store for every process (Redis), not per-process memory."""
    return _redis() is not None


def _window(ident: str, period: int) -> tuple[str, float]:
    now = time.time()
    return f"rate:{ident}:{int(now // period)}", period - (now % period)


def count(ident: str, period: int) -> tuple[int, float]:
    """Count one hit for ``ident`` in the current fixed window of ``period`` seconds; returns
    the count so far in this window and the seconds left in it."""
    key, left = _window(ident, period)
    redis = _redis()
    if redis is not None:
        client, make_key = redis
        full = make_key(key)
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


# -- a rate-limit hit counted in the round trip of the request's first cache read --------------
#
# A cached Open311 read makes two round trips to Redis: count the hit, fetch the row. The hit
# can ride along with the fetch: the view registers it, the next get_many of the same thread
# sends both in one pipeline and raises OverRate *before returning anything*, so an
# over-limit request still does no further work. Whoever registers must call settle() on every
# way out (it counts the hit then if nothing read it along) and forget_pending() at the end.


class OverRate(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"over the rate limit for {wait:.0f} s")
        self.wait = wait


_pending = threading.local()


def count_with_next_read(ident: str, period: int, limit: int) -> None:
    _pending.hit = (ident, period, limit)


def forget_pending() -> None:
    _pending.hit = None


def settle() -> None:
    """Count a registered hit that no cache read took along; OverRate when over."""
    hit = getattr(_pending, "hit", None)
    if hit is not None:
        _pending.hit = None
        ident, period, limit = hit
        seen, left = count(ident, period)
        if seen > limit:
            raise OverRate(left)


def _token_key(name: str) -> str:
    return f"gen:{name}"


def get_many(keys: list[str]) -> dict[str, Any]:
    """The values stored under ``keys`` by :func:`set_many` (absent ones left out); counts a
    registered rate-limit hit in the same round trip (OverRate when over)."""
    redis = _redis()
    if redis is None:
        settle()
        return cache.get_many(keys)
    client, make_key = redis
    hit = getattr(_pending, "hit", None)
    _pending.hit = None
    pipe = client.pipeline(transaction=False)
    if hit is not None:
        ident, period, limit = hit
        key, left = _window(ident, period)
        pipe.set(make_key(key), 0, ex=period + 1, nx=True)
        pipe.incr(make_key(key))
    pipe.mget([make_key(k) for k in keys])
    results = pipe.execute()
    if hit is not None and int(results[1]) > limit:
        raise OverRate(left)
    values = results[-1]
    return {k: pickle.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}


def set_many(values: dict[str, Any], timeout: int) -> None:
    redis = _redis()
    if redis is None:
        cache.set_many(values, timeout=timeout)
        return
    client, make_key = redis
    pipe = client.pipeline(transaction=False)
    for key, value in values.items():
        pipe.set(make_key(key), pickle.dumps(value, pickle.HIGHEST_PROTOCOL), ex=timeout)
    pipe.execute()


def _add(key: str, value: Any, timeout: int) -> bool:
    redis = _redis()
    if redis is None:
        return bool(cache.add(key, value, timeout=timeout))
    client, make_key = redis
    return bool(client.set(make_key(key), pickle.dumps(value), ex=timeout, nx=True))


def tokens(names: Iterable[str], extra: Iterable[str] = ()) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Current tokens of ``names`` (None where none is set) and the values of the ``extra``
    keys (see :func:`set_many`), in one round trip."""
    names = list(names)
    extra = list(extra)
    found = get_many([_token_key(n) for n in names] + extra)
    return {n: found.get(_token_key(n)) for n in names}, {k: found[k] for k in extra if k in found}


def claim_token(name: str) -> str | None:
    """A token for ``name`` that had none: set one if still none is set; None when someone set
    one meanwhile (then what the caller read may already be outdated: do not store it)."""
    fresh = secrets.token_hex(8)
    return fresh if _add(_token_key(name), fresh, TOKEN_TIMEOUT) else None


def _renew(names: tuple[str, ...]) -> None:
    set_many({_token_key(n): secrets.token_hex(8) for n in names}, TOKEN_TIMEOUT)


def renew_on_commit(*names: str) -> None:
    """Give ``names`` fresh tokens once the current transaction commits (at once outside one):
    a reader that runs between our write and the commit must not store the old state under
    the new token."""
    transaction.on_commit(lambda: _renew(names))
