"""An inspector's phone in Debian's chromium: a cross-inspection with a photo, its follow-up, and
the next assessment run's explain view reaching that finding."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from chengguan.assessment.models import Finding, FindingStatus

from .conftest import World

PHONE = {"width": 390, "height": 844}


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


def no_sideways_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_cross_inspection_on_a_phone_to_the_explain_view(
    page, live_server, world: World, client, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    w = world
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
    page.set_viewport_size(PHONE)

    # A cross-inspection: 东岭街道 inspects 西苑街道's territory.
    page.goto(live_server.url + reverse("assessment:inspections"))
    assert no_sideways_scroll(page)
    page.get_by_role("link", name="新建检查").click()
    page.locator("#inspection-form").wait_for()
    assert no_sideways_scroll(page)
    page.select_option("#id_mode", "cross")
    page.fill("#id_title", "东岭街道互查西苑街道")
    page.select_option("#id_inspecting_unit", str(w.t1.pk))
    page.select_option("#id_inspected_unit", str(w.t2.pk))
    page.get_by_role("button", name="创建检查").click()
    page.locator("#inspection-record").wait_for()
    assert "对调互查" in page.locator("#inspection-record").inner_text()

    # One finding with a photo, placed by a tap on the map.
    page.get_by_role("link", name="录入问题").click()
    page.locator("#finding-form").wait_for()
    assert no_sideways_scroll(page)
    page.select_option("#id_item", str(w.items["S1"].pk))
    page.fill("#id_description", "文化路电线杆小广告")
    page.set_input_files(
        "#id_photos", files=[{"name": "现场.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    page.locator(".pick-map").click(position={"x": 120, "y": 80})
    assert page.input_value("#id_lat") != "" and page.input_value("#id_lon") != ""
    page.get_by_role("button", name="保存问题").click()
    card = page.locator("#findings .as-card").first
    card.wait_for()
    assert "文化路电线杆小广告" in card.inner_text()
    photo = card.locator("img").first
    photo.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())

    # It is in the list; open it, then a follow-up marks it rectified.
    page.goto(live_server.url + reverse("assessment:inspections"))
    page.get_by_role("link", name="东岭街道互查西苑街道").click()
    page.get_by_role("link", name="S1 乱贴乱画").click()
    page.locator("#finding-record").wait_for()
    page.get_by_role("link", name="追踪督查").click()
    page.locator("#follow-up-form").wait_for()
    assert no_sideways_scroll(page)
    page.get_by_label("已整改").check()
    page.fill("#id_note", "已清理完毕")
    page.get_by_role("button", name="保存督查结果").click()
    page.locator("#finding-status").wait_for()
    assert page.locator("#finding-status").inner_text() == "已整改"
    assert "已清理完毕" in page.locator("#finding-checks").inner_text()
    assert Finding.objects.get(description="文化路电线杆小广告").status == FindingStatus.RECTIFIED

    # The next run of this month: from 西苑街道's score down to the finding and its follow-up.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("assessment:index") + "?list=1")
    page.fill("input[name=period]", timezone.localdate().strftime("%Y-%m"))
    page.get_by_role("button", name="计算（生成新版本）").click()
    page.wait_for_selector("#ranking")
    page.get_by_role("link", name="西苑街道").click()
    penalty = page.locator("#finding-lines tbody tr", has_text="S1 乱贴乱画")
    penalty.get_by_role("link", name="依据").click()
    record = page.locator("#finding-record")
    record.wait_for()
    text = record.inner_text()
    assert "文化路电线杆小广告" in text and "对调互查" in text and "东岭街道 → 西苑街道" in text
    assert "已整改" in text and "已清理完毕" in text
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=record.locator("img").first.element_handle()
    )
    assert page.console_errors == []
