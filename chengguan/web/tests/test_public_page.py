"""The citizen's page: complain, follow a case by code + follow code, rate once closed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from chengguan.cases.models import Case, CitizenContact
from chengguan.web.tests.conftest import Site, photo

pytestmark = pytest.mark.django_db


def complaint(site: Site, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": site.garbage.pk,
        "description": "小区门口垃圾三天没人收",
        "lat": "42.27",
        "lon": "118.96",
        "address": "东岭街道幸福小区东门",
        "name": "张女士",
        "phone": "139 0000 0000",
    }
    data.update(kw)
    return data


def follow(client: Client, code: str, token: str) -> str:
    return client.post("/public/follow/", {"code": code, "token": token}).content.decode()


def test_public_page_offers_only_the_public_catalogue(site: Site, client: Client) -> None:
    body = client.get("/public/").content.decode()
    assert "我要投诉" in body and "查询案件办理进度" in body and 'name="viewport"' in body
    assert "暴露垃圾" in body and "违法建筑" not in body


def test_complain_and_get_a_follow_code_shown_once(site: Site, client: Client) -> None:
    response = client.post("/public/complain/", complaint(site, photos=[photo()]))
    assert response.status_code == 302 and response["Location"] == "/public/done/"
    case = Case.objects.get()
    contact = CitizenContact.objects.get(case=case)
    assert case.channel == "web" and case.reporter_staff is None and case.status == "reported"
    assert (contact.name, contact.phone) == ("张女士", "139 0000 0000")
    assert case.attachments.count() == 1
    done = client.get("/public/done/").content.decode()
    assert case.code in done and contact.follow_token in done
    assert client.get("/public/done/")["Location"] == "/public/"  # shown once


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"description": ""}, "请描述您看到的问题。"),
        ({"phone": "call me"}, "电话号码格式不正确。"),
        ({"lat": "", "lon": "", "address": ""}, "请定位、在地图上选点或填写地址。"),
    ],
)
def test_bad_complaints_are_explained(
    site: Site, client: Client, change: dict[str, Any], message: str
) -> None:
    response = client.post("/public/complain/", complaint(site, **change))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Case.objects.exists()


def test_a_category_not_open_to_the_public_is_refused(site: Site, client: Client) -> None:
    response = client.post("/public/complain/", complaint(site, category=site.building.pk))
    assert response.status_code == 400 and "请选择有效的问题类别" in response.content.decode()
    assert not Case.objects.exists()


def test_follow_in_plain_words_without_staff_names_or_citizen_data(site: Site, client: Client) -> None:
    client.post("/public/complain/", complaint(site))
    case = Case.objects.get()
    token = CitizenContact.objects.get(case=case).follow_token
    case = site.act(case, "send_verify", "operator", inspector=site.staff["inspector"])
    case = site.act(case, "confirm", "inspector", note="巡查员甲到场确认")
    case = site.act(case, "register", "shift_leader")
    case = site.act(case, "dispatch", "dispatcher")
    body = follow(client, case.code, token)
    assert "已派至责任单位" in body
    for step in ("收到您的反映", "安排现场核实", "核实属实", "立案", "派至责任单位"):
        assert step in body
    for secret in ("巡查员甲", "值班长丁", "派遣员戊", "张女士", "139", "到场确认"):
        assert secret not in body
    assert "请评价处理结果" not in body  # not closed yet


def test_wrong_follow_code(site: Site, client: Client) -> None:
    client.post("/public/complain/", complaint(site))
    case = Case.objects.get()
    response = client.post("/public/follow/", {"code": case.code, "token": "guess"})
    assert response.status_code == 404 and "案件编号或查询码不正确" in response.content.decode()
    response = client.post("/public/follow/", {"code": "", "token": ""})
    assert response.status_code == 400 and "请填写案件编号" in response.content.decode()


def test_staff_reports_cannot_be_followed_publicly(site: Site, client: Client) -> None:
    case = site.report()
    assert client.post("/public/follow/", {"code": case.code, "token": "x"}).status_code == 404


def test_rate_once_closed_and_only_once(site: Site, client: Client) -> None:
    client.post("/public/complain/", complaint(site))
    case = Case.objects.get()
    token = CitizenContact.objects.get(case=case).follow_token
    early = client.post("/public/rate/", {"code": case.code, "token": token, "satisfaction": "5"})
    assert early.status_code == 409 and "尚未办结" in early.content.decode()
    for action, who, extra in (
        ("register", "shift_leader", {}),
        ("dispatch", "dispatcher", {}),
        ("accept", "handler", {}),
        ("report_back", "handler", {}),
        ("send_check", "operator", {"inspector": site.staff["inspector"]}),
        ("check_pass", "inspector", {}),
        ("close", "shift_leader", {}),
    ):
        case = site.act(case, action, who, **extra)
    body = follow(client, case.code, token)
    assert "已办结" in body and "请评价处理结果" in body
    missing = client.post("/public/rate/", {"code": case.code, "token": token})
    assert missing.status_code == 400 and "请选择满意度" in missing.content.decode()
    wrong = client.post("/public/rate/", {"code": case.code, "token": "guess", "satisfaction": "1"})
    assert wrong.status_code == 404
    response = client.post("/public/rate/", {"code": case.code, "token": token, "satisfaction": "4"})
    assert response.status_code == 200 and "您的评价：4 / 5" in response.content.decode()
    case.refresh_from_db()
    assert case.satisfaction == 4
    event = case.events.order_by("-seq").first()
    assert event is not None and event.action == "rate" and event.actor_name == "举报人"
    again = client.post("/public/rate/", {"code": case.code, "token": token, "satisfaction": "1"})
    assert again.status_code == 409 and "已经评价过" in again.content.decode()
    case.refresh_from_db()
    assert case.satisfaction == 4
