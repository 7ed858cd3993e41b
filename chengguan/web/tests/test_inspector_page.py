"""The inspector's phone page: report with photo and location, my tasks."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chengguan.cases.models import Attachment, Case, CaseEvent
from chengguan.web.tests.conftest import Site, photo

pytestmark = pytest.mark.django_db


def form(site: Site, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": site.garbage.pk,
        "description": "路口成堆垃圾，约 2 立方米",
        "lat": "42.271234",
        "lon": "118.961234",
        "address": "光明路与长青街路口",
    }
    data.update(kw)
    return data


def test_page_is_built_for_a_phone(site: Site) -> None:
    body = site.client("inspector").get("/m/").content.decode()
    assert 'name="viewport"' in body
    assert "巡查上报" in body and "我的任务" in body and "当场自行处置" in body
    assert 'data-map="pick"' in body and "定位当前位置" in body
    # the picker groups categories by major class
    assert '<optgroup label="06 市容环境">' in body and '<optgroup label="01 公用设施">' in body
    assert 'accept="image/jpeg,image/png,image/webp"' in body


def test_report_with_photo_and_location(site: Site, settings: Any) -> None:
    client = site.client("inspector")
    response = client.post("/m/report/", form(site, photos=[photo("IMG 0001.png"), photo("b.png")]))
    assert response.status_code == 302 and response["Location"] == "/m/"
    case = Case.objects.get()
    assert case.channel == "patrol" and case.status == "reported"
    assert case.reporter_staff == site.staff["inspector"] and case.territory == site.town
    assert (case.lat, case.lon) == (42.271234, 118.961234)
    photos = list(Attachment.objects.filter(case=case))
    assert len(photos) == 2
    first_event = CaseEvent.objects.get(case=case, seq=1)
    for p in photos:
        assert p.kind == "before" and p.event == first_event and p.content_type == "image/png"
        # our own name under the case's folder, never the uploader's
        assert p.file.name == f"cases/{case.reported_at:%Y/%m}/{case.code}/{p.token}.png"
        assert "IMG" not in p.file.name
        assert p.file.storage.exists(p.file.name)
    follow = client.get("/m/")
    assert f"已上报，案件编号 {case.code}" in follow.content.decode()


def test_self_handled_report_goes_to_review(site: Site) -> None:
    site.client("inspector").post("/m/report/", form(site, self_handled="on"))
    case = Case.objects.get()
    assert case.status == "self_handled"


def test_address_alone_is_enough(site: Site) -> None:
    response = site.client("inspector").post("/m/report/", form(site, lat="", lon=""))
    assert response.status_code == 302
    assert Case.objects.get().lat is None


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"description": ""}, "请填写问题描述。"),
        ({"category": ""}, "请选择问题类别。"),
        ({"category": "999999"}, "请选择有效的问题类别。"),
        ({"lat": "", "lon": "", "address": ""}, "请定位、在地图上选点或填写地址。"),
        ({"lon": ""}, "经纬度必须同时填写"),
        ({"lat": "123"}, "确保该值小于或等于90"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(
    site: Site, change: dict[str, Any], field_message: str
) -> None:
    response = site.client("inspector").post("/m/report/", form(site, **change))
    assert response.status_code == 400
    assert field_message in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_a_file_that_is_not_a_picture_is_refused(site: Site) -> None:
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    response = site.client("inspector").post("/m/report/", form(site, photos=[fake]))
    assert response.status_code == 400
    assert "不是有效的照片" in response.content.decode()
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_a_gif_is_not_among_the_accepted_formats(site: Site) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    gif = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    response = site.client("inspector").post("/m/report/", form(site, photos=[gif]))
    assert response.status_code == 400 and not Case.objects.exists()


def test_a_photo_over_the_size_limit_is_refused(site: Site, settings: Any) -> None:
    settings.CHENGGUAN_MAX_UPLOAD_MB = 0.00001  # about 10 bytes
    response = site.client("inspector").post("/m/report/", form(site, photos=[photo()]))
    assert response.status_code == 400
    assert "超过" in response.content.decode() and "MB" in response.content.decode()
    assert not Case.objects.exists()


def test_only_inspectors_report(site: Site) -> None:
    response = site.client("handler").post("/m/report/", form(site))
    assert response.status_code == 403 and not Case.objects.exists()


def test_report_needs_a_post(site: Site) -> None:
    assert site.client("inspector").get("/m/report/").status_code == 405


def test_category_search_returns_grouped_options(site: Site) -> None:
    client = site.client("inspector")
    body = client.get("/categories/options/", {"q": "井盖"}).content.decode()
    assert "井盖" in body and "暴露垃圾" not in body and '<optgroup label="01 公用设施">' in body
    body = client.get("/categories/options/", {"q": "垃圾", "category": site.garbage.pk}).content.decode()
    assert f'value="{site.garbage.pk}" selected' in body
    # staff see the whole catalogue, the public only the public part
    assert "违法建筑" in client.get("/categories/options/", {"q": "违法"}).content.decode()
    assert "违法建筑" not in client.get("/categories/options/", {"q": "违法", "public": "1"}).content.decode()


def test_my_tasks_lists_verification_and_check_tasks_with_their_buttons(site: Site) -> None:
    public = site.report(channel="web", reporter_staff=None, reporter_user=None, description="市民反映")
    verify = site.act(public, "send_verify", "operator", inspector=site.staff["inspector"])
    check = site.to("checking")
    other = site.act(
        site.report(channel="web", reporter_staff=None, reporter_user=None),
        "send_verify",
        "operator",
        inspector=site.staff["inspector2"],
    )
    body = site.client("inspector").get("/m/").content.decode()
    tasks = body[body.index('id="tasks"') : body.index('id="mine"')]
    assert verify.code in tasks and check.code in tasks and other.code not in tasks
    for label in ("核实属实", "核实不属实", "核查通过", "核查不通过（返工）"):
        assert label in tasks
    assert "立案" not in tasks.replace("不予立案", "")


def test_inspector_fails_a_check_from_the_task_list_with_note_and_photo(site: Site) -> None:
    case = site.to("checking")
    client = site.client("inspector")
    response = client.post(
        f"/cases/{case.code}/act/",
        {
            "action": "check_fail",
            "version": case.version,
            "note": "垃圾仍未清运",
            "photos": [photo()],
            "next": "/m/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/m/"
    case.refresh_from_db()
    assert case.status == "handling" and case.rework_count == 1
    event = case.events.order_by("-seq").first()
    assert event is not None and event.action == "check_fail" and event.note == "垃圾仍未清运"
    assert [a.kind for a in event.attachments.all()] == ["evidence"]


def test_page_query_count_does_not_grow_with_tasks(site: Site, django_assert_max_num_queries: Any) -> None:
    for _ in range(8):
        site.to("checking")
    client = site.client("inspector")
    client.get("/m/")
    # session, user, staff + unit, calendar revision, tasks, their photos, my reports, categories,
    # map centre
    with django_assert_max_num_queries(9):
        response = client.get("/m/")
    assert response.content.decode().count('class="case-card"') == 8
