"""The dashboard and the big screen in Chromium: charts drawn, map filled, no console error
(CSP violations included), screenshots kept in test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from chengguan.dashboard.tests.conftest import build_district

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def signed_in(page, live_server, settings):  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from chengguan.dashboard.views import BIGSCREEN_CACHE_KEY

    settings.CHENGGUAN_MAP_TILES = ""  # offline: no base map tiles
    cache.delete_many([f"{BIGSCREEN_CACHE_KEY}:{lang}" for lang in ("zh-hans", "en")])
    # A year of cases up to a minute ago, so today's figures and the big screen have data.
    build_district(cases=1500, years=1.0, end=timezone.now() - dt.timedelta(minutes=1))
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    ARTIFACTS.mkdir(exist_ok=True)
    return page


def test_dashboard_renders_charts_and_map(signed_in, live_server) -> None:  # type: ignore[no-untyped-def]
    page = signed_in
    page.goto(f"{live_server.url}/dashboard/?period=year")
    page.wait_for_selector("#chart-trend canvas")
    for chart in ("channels", "groups", "trend", "categories", "mix", "units"):
        assert page.locator(f"#chart-{chart} canvas").count() >= 1, chart
    expect(page.locator("#hotmap-legend")).to_contain_text("有案件")  # cells drawn on the map's canvas
    page.wait_for_selector("#hotmap .leaflet-overlay-pane canvas")
    assert page.locator("#table-units .light").count() > 0
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    # A phone sees one column.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/dashboard/")
    page.wait_for_selector("#chart-trend canvas")
    box = page.locator("#chart-groups").bounding_box()
    assert box is not None and box["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"))
    assert page.console_errors == []


def test_big_screen_fills_the_wall_and_refreshes(signed_in, live_server) -> None:  # type: ignore[no-untyped-def]
    page = signed_in
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{live_server.url}/bigscreen/?refresh=5")
    page.wait_for_selector("#bs-trend canvas")
    page.wait_for_selector("#bs-map .leaflet-overlay-pane canvas")
    assert int(page.locator("#k-month").inner_text()) > 0
    assert page.locator("#bs-latest li").count() > 0
    box = page.locator("#screen").bounding_box()
    assert box is not None and round(box["width"]) == 1920 and round(box["height"]) == 1080
    with page.expect_response(lambda r: "/bigscreen/data.json" in r.url, timeout=15_000) as refreshed:
        pass
    assert refreshed.value.status == 200
    page.wait_for_timeout(500)
    assert "数据更新于" in page.locator("#updated").inner_text()
    page.screenshot(path=str(ARTIFACTS / "bigscreen.png"))
    assert page.console_errors == []
