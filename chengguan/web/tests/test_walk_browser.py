"""One case through every post in Chromium: report with a photo → … → rework → pass → closed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from chengguan.cases.models import Case
from chengguan.web.tests.conftest import PASSWORD, build_site, png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def photo_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes()}


def login(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


def card(page: Any, code: str) -> Any:
    return page.locator(f'article.case-card[data-code="{code}"]')


def expect_message(page: Any, text: str) -> None:
    assert text in page.locator(".messages").inner_text()


def test_one_case_through_every_post(page: Any, live_server: Any) -> None:
    site = build_site()
    base = live_server.url

    # 巡查员 reports from the phone page: category search, photo, map pick.
    login(page, base, "inspector")
    assert page.url == f"{base}/m/"
    page.fill("input.category-search", "垃圾")
    expect(page.locator("#id_category option")).to_have_count(2)
    page.select_option("#id_category", str(site.garbage.pk))
    page.fill("#id_description", "光明路口成堆垃圾")
    page.set_input_files("#id_photos", [photo_file("scene.png")])
    page.click(".pick-map", position={"x": 120, "y": 100})
    assert page.input_value("#id_lat") != "" and page.input_value("#id_lon") != ""
    page.fill("#id_address", "光明路与长青街路口")
    page.click("#report button[type=submit]")
    expect_message(page, "已上报")
    code = re.search(r"案件编号 (\d+)", page.locator(".messages").inner_text()).group(1)  # type: ignore[union-attr]
    case = Case.objects.get(code=code)
    assert case.attachments.count() == 1

    # 值班长 registers from the queue's row actions (htmx).
    login(page, base, "shift_leader")
    assert page.url == f"{base}/command/"
    page.click(f'tr[data-code="{code}"] .row-actions button')
    page.click(f'#act-{code} form[data-action="register"] button')
    expect_message(page, "已立案")

    # 派遣员 bulk-dispatches by the routing matrix.
    login(page, base, "dispatcher")
    page.check(f'tr[data-code="{code}"] input[name=pick]')
    page.click("button[data-bulk]")
    expect_message(page, "已派遣 1 件")

    def unit_reports_back(photo_name: str) -> None:
        login(page, base, "handler")
        assert page.url == f"{base}/unit/"
        item = card(page, code)
        if item.locator('form[data-action="accept"]').count():
            item.locator('form[data-action="accept"] button').click()
            expect_message(page, "已接收")
            item = card(page, code)
        form = item.locator('form[data-action="report_back"]')
        form.locator("summary").click()
        form.locator("input[type=file]").set_input_files([photo_file(photo_name)])
        form.locator("textarea").fill("已清运完毕")
        form.locator("button[type=submit]").click()
        expect_message(page, "已处置反馈")

    def operator_sends_check() -> None:
        login(page, base, "operator")
        page.goto(f"{base}/cases/{code}/")
        form = page.locator('form[data-action="send_check"]')
        form.locator("summary").click()
        form.locator("select").select_option(str(site.staff["inspector"].pk))
        form.locator("button[type=submit]").click()
        expect_message(page, "已派发核查")

    unit_reports_back("after-1.png")
    operator_sends_check()

    # 巡查员 fails the check once (返工) from their task list.
    login(page, base, "inspector")
    form = card(page, code).locator('form[data-action="check_fail"]')
    form.locator("summary").click()
    form.locator("textarea").fill("垃圾仍有残留")
    form.locator("button[type=submit]").click()
    expect_message(page, "核查不通过（返工）")

    unit_reports_back("after-2.png")
    operator_sends_check()

    login(page, base, "inspector")
    form = card(page, code).locator('form[data-action="check_pass"]')
    form.locator("summary").click()
    form.locator("button[type=submit]").click()
    expect_message(page, "已核查通过")

    # 值班长 closes on the case page; the timeline lists every step.
    login(page, base, "shift_leader")
    page.goto(f"{base}/cases/{code}/")
    page.click('form[data-action="close"] button')
    expect_message(page, "已结案")
    assert page.locator("[data-status]").first.get_attribute("data-status") == "closed"
    steps = page.locator("ol.timeline > li").evaluate_all("items => items.map(i => i.dataset.action)")
    assert steps == [
        "report",
        "register",
        "dispatch",
        "accept",
        "report_back",
        "send_check",
        "check_fail",
        "report_back",
        "send_check",
        "check_pass",
        "close",
    ]
    assert "垃圾仍有残留" in page.locator("ol.timeline").inner_text()
    assert page.locator("ol.timeline img").count() == 3  # the report's photo and two reports back
    assert page.locator("ol.timeline img").first.evaluate("img => img.naturalWidth") == 8
    case.refresh_from_db()
    assert case.status == "closed" and case.rework_count == 1
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_phone_pages_are_one_column(page: Any, live_server: Any) -> None:
    build_site()
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server.url, "inspector")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    submit = page.locator("#report button[type=submit]").bounding_box()
    assert submit is not None and submit["height"] >= 44 and submit["width"] > 300
    lat, lon = page.locator("#id_lat").bounding_box(), page.locator("#id_lon").bounding_box()
    assert lat is not None and lon is not None and lon["y"] > lat["y"]  # stacked, not side by side
    # GPS from the phone fills the location
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 42.2712, "longitude": 118.9634, "accuracy": 12})
    page.click("button[data-locate]")
    expect(page.locator("#id_lat")).to_have_value("42.271200")  # no eval: the pages run under a CSP
    assert page.input_value("#id_lon") == "118.963400"
    assert "已定位" in page.inner_text("[data-locate-status]")
    page.goto(f"{live_server.url}/public/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []  # type: ignore[attr-defined]
