"""The citizen's forms (complain, follow, rate) are limited per client address and form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from chengguan.cases.models import Case, CaseEvent
from chengguan.web.tests.conftest import Site, build_site

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters(settings: Any) -> Iterator[None]:
    settings.CHENGGUAN_PUBLIC_FORM_RATE = "3/h"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(db: None) -> Site:
    return build_site()


def complaint(site: Site, n: int) -> dict[str, Any]:
    return {"category": site.garbage.pk, "description": f"路灯不亮 {n}", "lat": "42.27", "lon": "118.96"}


def test_complaints_over_the_limit_are_refused_in_chinese_and_store_nothing(site: Site) -> None:
    client = Client()
    codes = [
        client.post("/public/complain/", complaint(site, n), REMOTE_ADDR="10.0.0.1").status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 302]
    refused = client.post("/public/complain/", complaint(site, 9), REMOTE_ADDR="10.0.0.1")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "提交过于频繁" in refused.content.decode()
    assert Case.objects.count() == 3
    # Another address has its own allowance.
    assert client.post("/public/complain/", complaint(site, 10), REMOTE_ADDR="10.0.0.2").status_code == 302


def test_follow_code_guessing_is_cut_off(site: Site) -> None:
    case = site.report(channel="web", reporter_staff=None, reporter_user=None)
    client = Client()
    guesses = [
        client.post(
            "/public/follow/", {"code": case.code, "token": f"guess{n}"}, REMOTE_ADDR="10.0.0.3"
        ).status_code
        for n in range(4)
    ]
    assert guesses == [404, 404, 404, 429]
    # The limit is per form: the same address may still complain.
    assert client.post("/public/complain/", complaint(site, 1), REMOTE_ADDR="10.0.0.3").status_code == 302


def test_rating_is_limited_and_a_refused_rating_writes_no_event(site: Site) -> None:
    case = site.report(channel="web", reporter_staff=None, reporter_user=None)
    events = CaseEvent.objects.filter(case=case).count()
    client = Client()
    data = {"code": case.code, "token": "wrong", "satisfaction": "5"}
    statuses = [client.post("/public/rate/", data, REMOTE_ADDR="10.0.0.4").status_code for _ in range(4)]
    assert statuses[-1] == 429 and statuses[:3] == [404, 404, 404]
    assert CaseEvent.objects.filter(case=case).count() == events


@override_settings(CHENGGUAN_PROXY_COUNT=1)
def test_behind_the_trusted_proxy_each_citizen_counts_alone(site: Site) -> None:
    # The proxy appends the address it saw; whatever a client wrote before it is not trusted,
    # so changing it does not buy a fresh allowance.
    client = Client()
    proxy = "192.168.1.1"

    def post(claimed: str, citizen: str, n: int) -> int:
        return client.post(
            "/public/complain/",
            complaint(site, n),
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"{claimed}, {citizen}",
        ).status_code

    assert [post(f"10.9.9.{n}", "203.0.113.5", n) for n in range(4)] == [302, 302, 302, 429]
    assert post("10.9.9.9", "203.0.113.6", 5) == 302  # a second citizen behind the same proxy


@override_settings(CHENGGUAN_PROXY_COUNT=1)
def test_citizens_who_send_no_forwarded_header_do_not_share_one_allowance(site: Site) -> None:
    # The usual request: the citizen's phone sends no X-Forwarded-For, nginx writes one entry.
    client = Client()

    def post(citizen: str, n: int) -> int:
        return client.post(
            "/public/complain/", complaint(site, n), REMOTE_ADDR="192.168.1.1", HTTP_X_FORWARDED_FOR=citizen
        ).status_code

    assert [post("203.0.113.7", n) for n in range(4)] == [302, 302, 302, 429]
    assert post("203.0.113.8", 4) == 302  # another citizen behind the same proxy has their own
