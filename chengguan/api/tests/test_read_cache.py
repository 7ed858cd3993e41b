"""Open311 rows remembered in the cache: every read answers what the database holds.

These tests commit for real (``transactional_db``): the cached row is invalidated when a
change *commits*, and a test transaction that never commits would hide a missing renewal.
The cache is the per-process memory one here (one process); tests/test_shared_cache.py shows
the same tokens shared between processes through Redis.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.api.tests.conftest import INSIDE, District, issue
from chengguan.api.tests.test_open311 import BASE, good, post
from chengguan.cases import services
from chengguan.cases.models import Case, Channel
from chengguan.org.models import Staff


@pytest.fixture
def row_cache(live_district: District) -> District:
    cache.clear()
    with override_settings(CHENGGUAN_OPEN311_CACHE_SECONDS=60):
        yield live_district
    cache.clear()


def read(client: Client, code: str, fmt: str = "json") -> bytes:
    response = client.get(f"{BASE}/requests/{code}.{fmt}")
    assert response.status_code == 200, response.content
    return bytes(response.content)


def uncached(client: Client, path: str, params: dict[str, str] | None = None) -> bytes:
    with override_settings(CHENGGUAN_OPEN311_CACHE_SECONDS=0):
        return bytes(client.get(path, params or {}).content)


def test_second_read_is_served_from_the_cache(
    client: Client, row_cache: District, django_assert_num_queries: Any
) -> None:
    code = post(client, "json", good(issue(["open311:write"]))).json()[0]["service_request_id"]
    first = read(client, code)
    with django_assert_num_queries(0):
        again = read(client, code)
        as_xml = read(client, code, "xml")
    assert again == first == uncached(client, f"{BASE}/requests/{code}.json")
    assert as_xml == uncached(client, f"{BASE}/requests/{code}.xml")


def test_a_read_after_every_transition_shows_the_new_state(client: Client, row_cache: District) -> None:
    code = post(client, "json", good(issue(["open311:write"]))).json()[0]["service_request_id"]
    case = Case.objects.get(code=code)
    users = row_cache.users
    inspector = Staff.objects.create(code="I9", name="巡查员", role="inspector", unit=row_cache.town)
    from django.contrib.auth.models import User

    inspector.user = User.objects.create_user("insp9")
    inspector.save()
    steps = [
        ("register", users["shift_leader"], {}),
        ("dispatch", users["dispatcher"], {}),
        ("accept", users["handler"], {}),
        ("report_back", users["handler"], {}),
        ("send_check", users["operator"], {"inspector": inspector}),
        ("check_pass", inspector.user, {}),
        ("close", users["shift_leader"], {}),
    ]
    seen = {read(client, code)}
    for action, user, extra in steps:
        read(client, code)  # remembered before the step
        services.transition(case.pk, services.TransitionInput(action, **extra), user)
        after = read(client, code)
        assert after == uncached(client, f"{BASE}/requests/{code}.json"), action
        seen.add(after)
    closed = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert closed["status"] == "closed" and closed["status_notes"] != "已受理，等待立案"
    assert len(seen) >= 4  # the document really changed along the way


def test_renaming_the_lead_unit_or_category_shows_in_the_next_read(
    client: Client, row_cache: District
) -> None:
    code = post(client, "json", good(issue(["open311:write"]))).json()[0]["service_request_id"]
    case = Case.objects.get(code=code)
    users = row_cache.users
    services.transition(case.pk, services.TransitionInput("register"), users["shift_leader"])
    services.transition(case.pk, services.TransitionInput("dispatch"), users["dispatcher"])
    assert client.get(f"{BASE}/requests/{code}.json").json()[0]["agency_responsible"] == "区环境卫生服务中心"
    row_cache.sanitation.name = "区环卫中心"
    row_cache.sanitation.save()
    row_cache.garbage.name = "暴露垃圾（含建筑垃圾）"
    row_cache.garbage.save()
    got = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert got["agency_responsible"] == "区环卫中心" and got["service_name"] == "暴露垃圾（含建筑垃圾）"


def test_a_change_rolled_back_leaves_the_remembered_row_right(client: Client, row_cache: District) -> None:
    from django.db import transaction

    code = post(client, "json", good(issue(["open311:write"]))).json()[0]["service_request_id"]
    case = Case.objects.get(code=code)
    before = read(client, code)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        services.transition(case.pk, services.TransitionInput("register"), row_cache.users["shift_leader"])
        raise Undo
    assert read(client, code) == before == uncached(client, f"{BASE}/requests/{code}.json")


# -- lists by id: the same documents, in the same order, with any part of them remembered -------


@pytest.fixture
def mixed_cases(row_cache: District) -> list[str]:
    """Public cases from two channels, reported at different times, and one patrol report
    (never public): the list must skip it whether or not the others are remembered."""
    codes = []
    at = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    for n, channel in enumerate(
        [Channel.HOTLINE, Channel.OPEN311, Channel.HOTLINE, Channel.PATROL, Channel.WEB]
    ):
        case = services.report(
            services.ReportInput(
                category=row_cache.garbage,
                description=f"第{n}件",
                channel=channel,
                lat=INSIDE[0],
                lon=INSIDE[1],
                reporter_user=row_cache.users["operator"],
                at=at + dt.timedelta(minutes=[30, 5, 5, 0, 50][n]),  # two at the same minute
            )
        )
        codes.append(case.code)
    return codes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lists_by_id_match_the_database(client: Client, mixed_cases: list[str], data: Any) -> None:
    pool = [*mixed_cases, "2099010100001"]  # and a code that does not exist
    chosen = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=8))
    warm = data.draw(st.lists(st.sampled_from(mixed_cases), max_size=3))
    for code in warm:
        client.get(f"{BASE}/requests/{code}.json")
    params = {"service_request_id": ",".join(chosen)}
    got = client.get(f"{BASE}/requests.json", params)
    assert got.status_code == 200
    assert bytes(got.content) == uncached(client, f"{BASE}/requests.json", params)


# -- the rate limit counted in the same round trip as the cached row ---------------------------


def cache_settings(kind: str) -> dict[str, Any]:
    if kind == "locmem":
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    from chengguan.api.tests.test_shared_cache import REDIS_URL, redis_or_skip

    redis_or_skip()
    import secrets

    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"cgtest{secrets.token_hex(4)}",
        }
    }


@pytest.mark.parametrize("kind", ["locmem", "redis"])
def test_cached_reads_are_rate_limited_before_any_work(
    client: Client, row_cache: District, kind: str, django_assert_num_queries: Any
) -> None:
    code = post(client, "json", good(issue(["open311:write"]))).json()[0]["service_request_id"]
    with override_settings(CACHES=cache_settings(kind), CHENGGUAN_API_RATE="4/h"):
        read(client, code)  # 1: remembered now
        with django_assert_num_queries(0):
            read(client, code)  # 2: from the cache, the hit counted in the same round trip
        missing = client.get(f"{BASE}/requests/2099010100001.json")  # 3: refusals count too
        assert missing.status_code == 404
        listed = client.get(f"{BASE}/requests.json", {"service_request_id": code})  # 4
        assert listed.status_code == 200 and listed.json()[0]["service_request_id"] == code
        with django_assert_num_queries(0):
            refused = client.get(f"{BASE}/requests/{code}.json")  # 5: over, and nothing read
            refused_list = client.get(f"{BASE}/requests.json", {"service_request_id": code})
        for response in (refused, refused_list):
            assert response.status_code == 429 and int(response["Retry-After"]) > 0
            assert response.json() == [{"code": 429, "description": "too many requests: slow down"}]
