"""The ranking page in Debian's chromium: chart, drill into one score, reach the records behind a penalty."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from chengguan.assessment import services

from .conftest import World, at
from .test_runs import march_cases


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_ranking_to_the_records_behind_one_penalty(page, live_server, world: World, client, settings) -> None:
    w = world
    march_cases(w)
    w.finding("Z1", w.t1, at("2026-03-03"), description="光明路新增彩钢房一处", responsible_person="张三")
    w.finding("S1", w.t2, at("2026-03-04"), description="电线杆小广告")
    services.publish(services.run_assessment("month", dt.date(2026, 2, 1)))
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    services.publish(run)
    client.force_login(w.users["assessor"])
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(live_server.url + reverse("assessment:index"))
    page.wait_for_selector("#ranking")
    assert "考评排名" in page.title()
    page.locator("#ranking-chart canvas").first.wait_for()
    page.locator("#trend-chart canvas").first.wait_for()
    rows = page.locator("#ranking tbody tr")
    assert rows.count() == 2
    assert "西苑街道" in rows.nth(0).inner_text() and "东岭街道" in rows.nth(1).inner_text()

    page.get_by_role("link", name="东岭街道").click()
    page.wait_for_selector("#finding-lines")
    assert "得分 90.00" in page.locator("#score-sum").inner_text()  # 100 − 5 (Z1) − 5 (closure 40 %)
    penalty = page.locator("#finding-lines tbody tr", has_text="Z1 新增违法建设")
    assert "-5.00" in penalty.inner_text()
    penalty.get_by_role("link", name="依据").click()

    record = page.locator("#finding-record")
    record.wait_for()
    text = record.inner_text()
    assert "光明路新增彩钢房一处" in text and "张三" in text and "日常巡查" in text and "综合执法局" in text

    page.go_back()
    page.locator("#indicator-lines a.explain").first.click()
    page.locator("#indicator-records").wait_for()
    assert "共 5 条记录，其中 2 条计入分子" in page.locator("#indicator-records").inner_text()
    assert page.console_errors == []
