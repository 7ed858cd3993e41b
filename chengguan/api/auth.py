"""Who is calling and how often: API keys, scopes and the per-key rate limit."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from chengguan.api import shared
from chengguan.api.models import ApiKey, hash_key
from chengguan.security import policy
from chengguan.security.clientip import client_ip

HEADER = "X-Api-Key"
AUTH_SCHEME = "Api-Key"
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is refreshed at most this often


def key_from_header(request: Any) -> str:
    """The raw key from ``X-Api-Key`` or ``Authorization: Api-Key …`` ('' when absent)."""
    meta = request.META
    raw = meta.get("HTTP_X_API_KEY", "")
    if raw:
        return str(raw).strip()
    header = str(meta.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.partition(" ")
    if scheme.lower() == AUTH_SCHEME.lower():
        return value.strip()
    return ""


# Keys seen lately, per process, each with the keys' shared token (chengguan.api.shared) read
# before it was loaded: a request costs one cache read, not a query. Saving any key or account
# renews the token when it commits, so a revocation, a scope change or a disabled account takes
# effect at once in every worker and app server; this process also forgets at once.
KEYS_TOKEN = "apikeys"
_keys: dict[str, tuple[str, ApiKey]] = {}
_keys_lock = threading.Lock()


def forget_keys(**_: Any) -> None:
    """Forget the keys this process remembers."""
    with _keys_lock:
        _keys.clear()


def keys_changed(**_: Any) -> None:
    """A key or an account was saved: this process forgets at once, the others once the
    change commits (the keys' token is renewed then)."""
    forget_keys()
    shared.renew_on_commit(KEYS_TOKEN)


def _load_key(digest: str) -> ApiKey | None:
    key = ApiKey.objects.select_related("user").filter(key_hash=digest, active=True).first()
    if key is None or (key.user is not None and not key.user.is_active):
        return None
    return key


def remembered_key(raw: str) -> ApiKey | None:
    """The key this process remembers for this clear text, unchecked (no cache read): who the
    caller probably is, so a rate-limit hit can ride along with find_key's one read."""
    if not raw or len(raw) > 200:
        return None
    cached = _keys.get(hash_key(raw))
    return cached[1] if cached is not None else None


def find_key(raw: str) -> ApiKey | None:
    """The active key with this clear text, its last use noted (at most once a minute)."""
    if not raw or len(raw) > 200:
        return None
    digest = hash_key(raw)
    token = shared.tokens([KEYS_TOKEN])[0][KEYS_TOKEN]
    cached = _keys.get(digest)
    if cached is not None and token is not None and cached[0] == token:
        key = cached[1]
    else:
        found = _load_key(digest)  # after reading the token: a change committed meanwhile renews it
        if found is None:
            return None
        key = found
        token = token or shared.claim_token(KEYS_TOKEN)
        if token is not None:
            with _keys_lock:
                if len(_keys) > 10_000:
                    _keys.clear()
                _keys[digest] = (token, key)
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


class ApiKeyAuthentication(BaseAuthentication):
    """``X-Api-Key: <key>`` (or ``Authorization: Api-Key <key>``).

    ``request.auth`` is the ApiKey; ``request.user`` the account the key acts as, or an
    anonymous user for keys that only read or file Open311 requests.
    """

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        raw = key_from_header(request)
        if not raw:
            return None
        key = find_key(raw)
        if key is None:
            raise exceptions.AuthenticationFailed("接口密钥无效或已吊销。")
        return (key.user or AnonymousUser(), key)

    def authenticate_header(self, request: Request) -> str:
        return AUTH_SCHEME


class ScopePermission(BasePermission):
    """Keys need the view's scope for the method; sessions need a post that may call it. Both
    go through ``chengguan.security.policy.api_allows`` (the leader reads only, whatever the
    key says); the data is then scoped by the selectors and the actions by the workflow."""

    message = "该接口密钥没有执行此操作的权限。"

    def has_permission(self, request: Request, view: Any) -> bool:
        scopes: dict[str, str] = getattr(view, "scopes", {})
        needed = scopes.get(request.method or "GET") or scopes.get("*")
        key = request.auth if isinstance(request.auth, ApiKey) else None
        user = request.user
        method = request.method or "GET"
        if key is not None and method in policy.SAFE_METHODS:
            # A key's reads depend on its scopes only: no query for its account's post on the
            # API's busiest path.
            allowed, message = policy.api_allows(policy.Post.OTHER, method, needed, list(key.scopes or []))
        else:
            post = policy.post_of(user, remember=key is None)
            if key is None and post is policy.Post.ANONYMOUS:
                raise exceptions.NotAuthenticated("请提供接口密钥（X-Api-Key）或先登录。")
            key_scopes = list(key.scopes or []) if key is not None else None
            allowed, message = policy.api_allows(post, method, needed, key_scopes)
        if not allowed:
            self.message = message
        return allowed


def client_address(request: Any) -> str:
    """The caller's address, through CHENGGUAN_PROXY_COUNT trusted proxies (as the login
    lock-out reads it), so anonymous callers behind one proxy do not share one limit."""
    return client_ip(getattr(request, "_request", request))


def parse_rate(rate: str) -> tuple[int, int]:
    """'6000/min' → (6000, 60); the unit is read from its first letter (s, m, h, d)."""
    count, _, unit = rate.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit.strip()[:1].lower() or "m"]
    return int(count), seconds


def over_rate(ident: str) -> float | None:
    """Count one request for ``ident``; seconds to wait when over CHENGGUAN_API_RATE, else None."""
    limit, period = parse_rate(getattr(settings, "CHENGGUAN_API_RATE", "6000/min"))
    count, left = shared.count(ident, period)
    return left if count > limit else None


class ApiKeyRateThrottle(BaseThrottle):
    """A fixed-window counter per key (per account for sessions, per address otherwise).

    One cache ``add``/``incr`` per request, whatever the rate: DRF's sliding-window history
    would pickle thousands of timestamps per call at the default 6,000/min. The counter lives
    in Django's cache, so it is per process with the default local-memory cache and shared
    once the deployment configures a shared cache (Redis).
    """

    def __init__(self) -> None:
        self._wait: float | None = None

    def ident_of(self, request: Request) -> str:
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"addr:{client_address(request)}"

    def allow_request(self, request: Request, view: Any) -> bool:
        self._wait = over_rate(self.ident_of(request))
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait
