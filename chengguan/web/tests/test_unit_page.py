"""The unit inbox: accept, return, report back with photos, extension, deferral."""

from __future__ import annotations

from typing import Any

import pytest

from chengguan.cases.models import Attachment
from chengguan.web.tests.conftest import Site, photo

pytestmark = pytest.mark.django_db


def test_inbox_lists_only_my_units_open_cases(site: Site) -> None:
    mine = site.to("dispatched")
    theirs = site.to("dispatched", category=site.manhole)
    closed = site.to("closed")
    body = site.client("handler").get("/unit/").content.decode()
    assert mine.code in body and theirs.code not in body and closed.code not in body
    assert site.sanitation.name in body and 'name="viewport"' in body
    assert 'data-action="accept"' in body and 'data-action="return"' in body


def test_co_handlers_see_the_case_but_cannot_act_as_lead(site: Site) -> None:
    case = site.to("handling")
    case.co_handlers.add(site.municipal)
    body = site.client("other_handler").get("/unit/").content.decode()
    assert case.code in body
    assert 'data-action="report_back"' not in body and "当前没有您可以执行的操作" in body


def test_accept_then_report_back_with_photos(site: Site) -> None:
    case = site.to("dispatched")
    client = site.client("handler")
    response = client.post(
        f"/cases/{case.code}/act/", {"action": "accept", "version": case.version, "next": "/unit/"}
    )
    assert response.status_code == 302 and response["Location"] == "/unit/"
    case.refresh_from_db()
    assert case.status == "handling"
    response = client.post(
        f"/cases/{case.code}/act/",
        {
            "action": "report_back",
            "version": case.version,
            "note": "已清运",
            "photos": [photo(), photo("2.png")],
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "handled"
    after = list(Attachment.objects.filter(case=case))
    assert [a.kind for a in after] == ["after", "after"]
    assert all(a.event is not None and a.event.action == "report_back" for a in after)


def test_report_back_without_photo_is_refused(site: Site) -> None:
    case = site.to("handling")
    response = site.client("handler").post(
        f"/cases/{case.code}/act/", {"action": "report_back", "version": case.version}
    )
    assert response.status_code == 400
    assert "请上传处置后照片" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "handling"


def test_return_needs_a_reason(site: Site) -> None:
    case = site.to("dispatched")
    client = site.client("handler")
    response = client.post(f"/cases/{case.code}/act/", {"action": "return", "version": case.version})
    assert response.status_code == 400 and "请填写说明" in response.content.decode()
    client.post(
        f"/cases/{case.code}/act/", {"action": "return", "version": case.version, "note": "不属本单位职责"}
    )
    case.refresh_from_db()
    assert case.status == "returned" and case.return_count == 1


@pytest.mark.parametrize(
    ("hours", "message"),
    [("", "请填写申请延期的工作时数"), ("0", "确保该值大于或等于0.5"), ("abc", "输入一个数字")],
)
def test_extension_request_needs_hours_and_a_reason(site: Site, hours: str, message: str) -> None:
    case = site.to("handling")
    response = site.client("handler").post(
        f"/cases/{case.code}/act/",
        {"action": "request_extension", "version": case.version, "extension_hours": hours, "note": "缺配件"},
    )
    assert response.status_code == 400 and message in response.content.decode()
    case.refresh_from_db()
    assert case.status == "handling"


def test_extension_request(site: Site) -> None:
    case = site.to("handling")
    site.client("handler").post(
        f"/cases/{case.code}/act/",
        {"action": "request_extension", "version": case.version, "extension_hours": "8", "note": "缺配件"},
    )
    case.refresh_from_db()
    assert case.status == "extension_requested"
    event = case.events.order_by("-seq").first()
    assert event is not None and event.data["hours"] == "8" and event.note == "缺配件"


def test_deferral_request(site: Site) -> None:
    case = site.to("handling")
    site.client("handler").post(
        f"/cases/{case.code}/act/",
        {"action": "request_deferral", "version": case.version, "note": "需冬季后施工"},
    )
    case.refresh_from_db()
    assert case.status == "deferral_requested"


def test_another_unit_cannot_see_or_act(site: Site) -> None:
    case = site.to("dispatched")
    client = site.client("other_handler")
    assert client.get(f"/cases/{case.code}/").status_code == 404
    response = client.post(f"/cases/{case.code}/act/", {"action": "accept", "version": case.version})
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == "dispatched"


def test_inbox_photos_of_the_case_are_shown(site: Site) -> None:
    case = site.to("handling")
    site.client("handler").post(
        f"/cases/{case.code}/act/", {"action": "report_back", "version": case.version, "photos": [photo()]}
    )
    case = site.act(case, "send_check", "operator", inspector=site.staff["inspector"])
    token = Attachment.objects.get(case=case).token
    assert f"/photos/{token}/" in site.client("handler").get("/unit/").content.decode()


def test_inbox_query_count_does_not_grow_with_cases(site: Site, django_assert_max_num_queries: Any) -> None:
    for n in range(12):
        site.to(["dispatched", "handling", "handled"][n % 3])
    client = site.client("handler")
    client.get("/unit/")
    # session, user, staff + unit, cases, their photos, calendar revision
    with django_assert_max_num_queries(6):
        response = client.get("/unit/")
    assert response.content.decode().count('class="case-card"') == 12
