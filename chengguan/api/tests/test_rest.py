"""REST API: keys and scopes, registries, cases and transitions, errors, limits, admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, override_settings

from chengguan.api.models import ApiKey, Scope, hash_key
from chengguan.api.tests.conftest import ALL_SCOPES, INSIDE, OUTSIDE, District, issue
from chengguan.cases import services
from chengguan.cases.models import Case, CaseEvent

V1 = "/api/v1"


def get(client: Client, path: str, key: str | None = None, **params: Any) -> Any:
    headers = {"HTTP_X_API_KEY": key} if key else {}
    return client.get(f"{V1}{path}", params, **headers)


def send(client: Client, path: str, body: Any, key: str | None = None, method: str = "post") -> Any:
    headers = {"HTTP_X_API_KEY": key} if key else {}
    return getattr(client, method)(f"{V1}{path}", body, content_type="application/json", **headers)


def error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def hotline_case(district: District, **changes: Any) -> Case:
    data = dict(
        category=district.garbage, description="热线：垃圾", channel="hotline", lat=INSIDE[0], lon=INSIDE[1]
    )
    data.update(changes)
    return services.report(services.ReportInput(**data))


def test_keys_are_stored_as_hashes_and_checked(client: Client, district: District) -> None:
    key, raw = ApiKey.issue("数据大屏", [Scope.CASES_READ])
    assert raw.startswith(key.prefix) and key.key_hash == hash_key(raw) and raw not in str(vars(key))
    assert get(client, "/cases/", raw).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
    missing = get(client, "/cases/")
    assert missing.status_code == 401 and error(missing)["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"] == "Api-Key"
    wrong = get(client, "/cases/", "cg_nope_nope")
    assert wrong.status_code == 401 and "无效" in error(wrong)["message"]
    by_header = client.get(f"{V1}/cases/", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert by_header.status_code == 200
    key.revoke()
    assert get(client, "/cases/", raw).status_code == 401


def test_scopes(client: Client, district: District) -> None:
    reader = issue([Scope.REGISTRIES_READ])
    assert get(client, "/categories/", reader).status_code == 200
    denied = get(client, "/cases/", reader)
    assert denied.status_code == 403 and "cases:read" in error(denied)["message"]
    assert send(client, "/subscriptions/", {}, reader).status_code == 403


def test_registries_and_grid(client: Client, district: District) -> None:
    key = issue([Scope.REGISTRIES_READ])
    categories = get(client, "/categories/", key, kind="matter", public="true").json()
    assert [c["code"] for c in categories["results"]] == ["06010"]
    assert categories["results"][0]["open311_service_code"] == "M06010"
    units = get(client, "/units/", key, kind="subdistrict").json()["results"]
    assert [u["code"] for u in units] == ["150402001"]
    layer = get(client, "/grid/layer/", key).json()
    assert layer["name"] == "测试网格" and set(layer["cells"]) == {"1", "2", "3", "4"}
    cells = get(client, "/grid/cells/", key, level=4, limit=5).json()
    assert cells["type"] == "FeatureCollection" and len(cells["features"]) == 5
    assert cells["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    here = get(client, "/grid/locate/", key, lat=INSIDE[0], lon=INSIDE[1]).json()
    assert here["found"] and here["territory"] == "150402001" and here["unit"]["code"].startswith("150402001")
    away = get(client, "/grid/locate/", key, lat=OUTSIDE[0], lon=OUTSIDE[1]).json()
    assert away["found"] is False and away["unit"] is None
    bad = get(client, "/grid/locate/", key, lat="north", lon="1")
    assert bad.status_code == 400 and "lat" in error(bad)["fields"]


def test_case_list_filters_and_pagination(client: Client, district: District) -> None:
    key = issue([Scope.CASES_READ])
    cases = [hotline_case(district, description=f"第{n}件") for n in range(3)]
    services.transition(
        cases[0].pk, services.TransitionInput("reject", note="不属实"), district.users["shift_leader"]
    )
    page = get(client, "/cases/", key, limit=2).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert page["results"][0]["light"] in ("green", "yellow", "red")
    open_ = get(client, "/cases/", key, status="open").json()
    assert open_["count"] == 2
    closed = get(client, "/cases/", key, status="closed").json()["results"]
    assert [c["code"] for c in closed] == [cases[0].code] and closed[0]["light"] == "none"
    assert get(client, "/cases/", key, territory="150402001").json()["count"] == 3
    bad = get(client, "/cases/", key, status="lost", limit="many")
    assert bad.status_code == 400 and set(error(bad)["fields"]) >= {"status"}
    bad_limit = get(client, "/cases/", key, limit="-1")
    assert bad_limit.status_code == 400 and "limit" in error(bad_limit)["fields"]


def test_create_case_and_walk_it_through_the_workflow(client: Client, district: District) -> None:
    key = issue([Scope.CASES_READ, Scope.CASES_WRITE], user=district.users["operator"], name="12345 热线")
    body = {
        "category_kind": "matter",
        "category_code": "06010",
        "description": "市民来电：垃圾堆放",
        "channel": "hotline",
        "lat": INSIDE[0],
        "lon": INSIDE[1],
        "citizen": {"name": "李四", "phone": "13900000000"},
    }
    created = send(client, "/cases/", body, key)
    assert created.status_code == 201, created.content
    case = created.json()
    assert case["status"] == "reported" and case["territory"] == "150402001" and case["version"] == 1
    assert "13900000000" not in created.content.decode()  # contacts never leave the building
    code = case["code"]
    # the operator's key may not register (the workflow says who may)
    refused = send(client, f"/cases/{code}/transitions/", {"action": "register"}, key)
    assert refused.status_code == 409 and "值班长" in error(refused)["message"]
    leader = issue([Scope.CASES_WRITE, Scope.CASES_READ], user=district.users["shift_leader"])
    stale = send(client, f"/cases/{code}/transitions/", {"action": "register", "expected_version": 9}, leader)
    assert stale.status_code == 409
    done = send(client, f"/cases/{code}/transitions/", {"action": "register", "expected_version": 1}, leader)
    assert done.status_code == 200 and done.json()["status"] == "to_dispatch"
    dispatcher = issue([Scope.CASES_WRITE], user=district.users["dispatcher"])
    sent = send(client, f"/cases/{code}/transitions/", {"action": "dispatch", "lead_unit": "D01"}, dispatcher)
    assert sent.status_code == 200 and sent.json()["lead_unit"] == "D01"
    events = get(client, f"/cases/{code}/events/", key).json()
    assert [e["action"] for e in events] == ["report", "register", "dispatch"]
    unknown_unit = send(
        client, f"/cases/{code}/transitions/", {"action": "return", "lead_unit": "ZZ"}, dispatcher
    )
    assert unknown_unit.status_code == 400 and "lead_unit" in error(unknown_unit)["fields"]


def test_bad_case_input_creates_nothing(client: Client, district: District) -> None:
    key = issue([Scope.CASES_WRITE])
    before = (Case.objects.count(), CaseEvent.objects.count())
    base = {"category_kind": "matter", "category_code": "06010", "description": "x", "channel": "hotline"}
    outside = send(client, "/cases/", {**base, "lat": OUTSIDE[0], "lon": OUTSIDE[1]}, key)
    assert outside.status_code == 400 and "lat" in error(outside)["fields"]
    unknown = send(client, "/cases/", {**base, "category_code": "99999", "address": "某路"}, key)
    assert unknown.status_code == 400 and "category_code" in error(unknown)["fields"]
    typed = send(client, "/cases/", {**base, "description": 5, "address": "某路"}, key)
    assert typed.status_code == 400 and "description" in error(typed)["fields"]
    missing = send(client, "/cases/", {"channel": "hotline"}, key)
    assert set(error(missing)["fields"]) >= {"category_kind", "category_code", "description"}
    not_json = client.post(f"{V1}/cases/", "[1, 2]", content_type="application/json", HTTP_X_API_KEY=key)
    assert not_json.status_code == 400
    broken = client.post(f"{V1}/cases/", "{", content_type="application/json", HTTP_X_API_KEY=key)
    assert broken.status_code == 400 and error(broken)["code"] == "invalid"
    assert (Case.objects.count(), CaseEvent.objects.count()) == before


def test_key_without_account_reads_district_but_cannot_act(client: Client, district: District) -> None:
    case = hotline_case(district)
    key = issue(ALL_SCOPES)
    assert get(client, f"/cases/{case.code}/", key).json()["code"] == case.code
    refused = send(client, f"/cases/{case.code}/transitions/", {"action": "register"}, key)
    assert refused.status_code == 403 and "未绑定账号" in error(refused)["message"]


def test_unit_scoped_account_sees_only_its_cases(client: Client, district: District) -> None:
    mine = hotline_case(district)
    hotline_case(district)
    leader = district.users["shift_leader"]
    services.transition(mine.pk, services.TransitionInput("register"), leader)
    services.transition(mine.pk, services.TransitionInput("dispatch"), district.users["dispatcher"])
    handler_key = issue([Scope.CASES_READ], user=district.users["handler"])
    listed = get(client, "/cases/", handler_key).json()
    assert [c["code"] for c in listed["results"]] == [mine.code]
    other = Case.objects.exclude(pk=mine.pk).get()
    assert get(client, f"/cases/{other.code}/", handler_key).status_code == 404


def test_session_login_works_for_the_pages(client: Client, district: District) -> None:
    client.force_login(district.users["operator"])
    assert client.get(f"{V1}/cases/").status_code == 200
    plain = User.objects.create_user("nobody")
    client.force_login(plain)
    assert client.get(f"{V1}/subscriptions/").status_code == 403


def test_unknown_paths_answer_in_the_api_format(client: Client, db: Any) -> None:
    response = client.post(f"{V1}/nothing/here", {})
    assert response.status_code == 404 and error(response)["code"] == "not_found"


@override_settings(CHENGGUAN_API_RATE="2/min")
def test_rate_limit(client: Client, district: District) -> None:
    cache.clear()
    key = issue([Scope.REGISTRIES_READ])
    other = issue([Scope.REGISTRIES_READ])
    assert [get(client, "/units/", key).status_code for _ in range(3)] == [200, 200, 429]
    limited = get(client, "/units/", key)
    assert error(limited)["code"] == "throttled" and int(limited["Retry-After"]) >= 0
    assert get(client, "/units/", other).status_code == 200  # per key
    cache.clear()


@pytest.mark.django_db
def test_admin_shows_a_new_key_once_and_revokes(client: Client) -> None:
    admin = User.objects.create_superuser("root", "root@example.cn", None)
    client.force_login(admin)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "微信小程序", "scopes": ["open311:write", "cases:read"], "note": ""},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="微信小程序")
    shown = [str(m) for m in response.context["messages"]]
    raw = next(m.split("：")[-1] for m in shown if "只显示这一次" in m)
    assert hash_key(raw) == key.key_hash and key.scopes == ["open311:write", "cases:read"]
    again = client.get(f"/admin/api/apikey/{key.pk}/change/")
    assert raw not in again.content.decode()
    client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    key.refresh_from_db()
    assert not key.active and key.revoked_at is not None
