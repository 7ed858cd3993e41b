"""Open311 endpoints through Django's test client: documents, mapping of states, and every
refusal with the spec's error and status, creating nothing."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import xmltodict
from django.test import Client, override_settings
from django.utils import timezone

from chengguan.api.models import ApiKey, Open311Request
from chengguan.api.tests.conftest import INSIDE, OUTSIDE, District, check_schema, issue
from chengguan.cases import services
from chengguan.cases.models import Case, CaseEvent, CitizenContact

BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def rows() -> tuple[int, int, int, int]:
    return (
        Case.objects.count(),
        CaseEvent.objects.count(),
        CitizenContact.objects.count(),
        Open311Request.objects.count(),
    )


def post(client: Client, fmt: str, data: dict[str, Any], **extra: Any) -> Any:
    from urllib.parse import urlencode

    return client.post(f"{BASE}/requests.{fmt}", urlencode(data, doseq=True), content_type=FORM, **extra)


def good(key: str, **changes: Any) -> dict[str, Any]:
    data = {
        "api_key": key,
        "service_code": "M06010",
        "lat": INSIDE[0],
        "long": INSIDE[1],
        "description": "小区门口成堆垃圾三天无人清运",
        "attribute[size]": "large",
        "email": "citizen@example.cn",
        "phone": "13800000000",
        "first_name": "三",
        "last_name": "张",
        "media_url": "https://img.example.cn/1.jpg",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors_of(response: Any, fmt: str) -> list[dict[str, Any]]:
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return response.json()
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    parsed = xmltodict.parse(response.content)["errors"]["error"]
    items = parsed if isinstance(parsed, list) else [parsed]
    return [{"code": int(i["code"]), "description": i["description"]} for i in items]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_create_and_read_back(client: Client, district: District, open311_key: str, fmt: str) -> None:
    response = post(client, fmt, good(open311_key))
    assert response.status_code == 200, response.content
    if fmt == "json":
        created = response.json()
        check_schema_list = created[0]
    else:
        check_schema_list = xmltodict.parse(response.content)["service_requests"]["request"]
    code = check_schema_list["service_request_id"]
    case = Case.objects.get(code=code)
    assert case.channel == "open311" and case.unit_grid and case.territory == district.town
    assert case.citizen.name == "张三" and case.citizen.email == "citizen@example.cn"
    assert case.open311.attributes == {"size": "large"}
    assert case.open311.media_url == "https://img.example.cn/1.jpg"
    one = client.get(f"{BASE}/requests/{code}.json")
    body = one.json()
    check_schema("requests.json", body)
    request = body[0]
    assert request["status"] == "open" and request["service_code"] == "M06010"
    assert request["status_notes"] == "已受理，等待立案"
    assert request["requested_datetime"].endswith("+08:00")
    assert request["expected_datetime"] is not None  # the running step's deadline
    assert "13800000000" not in one.content.decode() and "citizen@" not in one.content.decode()


def test_services_and_definitions_are_the_public_catalogue(client: Client, district: District) -> None:
    services_doc = client.get(f"{BASE}/services.json").json()
    check_schema("services.json", services_doc)
    codes = {s["service_code"]: s for s in services_doc}
    assert set(codes) == {"M06010", "C01001"}  # the internal category is not offered
    assert codes["M06010"]["metadata"] is True and codes["M06010"]["group"] == "市容环境"
    definition = client.get(f"{BASE}/services/M06010.json").json()
    check_schema("service-definition.json", definition)
    size = definition["attributes"][0]
    assert size["code"] == "size" and size["required"] and size["order"] == 1
    assert [v["key"] for v in size["values"]] == ["small", "large"]
    manhole = client.get(f"{BASE}/services/C01001.json").json()
    assert manhole["attributes"][0]["variable"] is False  # registration criterion shown to the user
    xml = xmltodict.parse(client.get(f"{BASE}/services.xml").content)["services"]["service"]
    assert {s["service_code"] for s in xml} == set(codes)


def test_discovery_in_both_formats(client: Client, db: Any) -> None:
    doc = client.get(f"{BASE}/discovery.json").json()
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and endpoint["formats"] == [
        "text/xml",
        "application/json",
    ]
    xml = xmltodict.parse(client.get(f"{BASE}/discovery.xml").content)["discovery"]
    assert xml["endpoints"]["endpoint"]["formats"]["format"] == ["text/xml", "application/json"]


def test_internal_states_map_to_open_and_closed(client: Client, district: District, open311_key: str) -> None:
    code = post(client, "json", good(open311_key)).json()[0]["service_request_id"]
    case = Case.objects.get(code=code)
    users = district.users
    services.transition(case.pk, services.TransitionInput("register"), users["shift_leader"])
    services.transition(case.pk, services.TransitionInput("dispatch"), users["dispatcher"])
    request = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert request["status"] == "open" and request["agency_responsible"] == "区环境卫生服务中心"
    assert request["status_notes"] == "已派至责任单位"
    case.refresh_from_db()
    assert request["expected_datetime"] == timezone.localtime(case.handle_deadline).isoformat(
        timespec="seconds"
    )
    services.transition(case.pk, services.TransitionInput("accept"), users["handler"])
    services.transition(case.pk, services.TransitionInput("report_back"), users["handler"])
    from chengguan.org.models import Staff

    inspector = Staff.objects.create(code="I9", name="巡查员", role="inspector", unit=district.town)
    services.transition(
        case.pk, services.TransitionInput("send_check", inspector=inspector), users["operator"]
    )
    from django.contrib.auth.models import User

    inspector.user = User.objects.create_user("insp9")
    inspector.save()
    services.transition(case.pk, services.TransitionInput("check_pass"), inspector.user)
    services.transition(case.pk, services.TransitionInput("close"), users["shift_leader"])
    closed = client.get(f"{BASE}/requests/{code}.json").json()[0]
    case.refresh_from_db()
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["updated_datetime"] == timezone.localtime(case.closed_at).isoformat(timespec="seconds")
    listed = client.get(f"{BASE}/requests.json", {"status": "closed"}).json()
    assert [r["service_request_id"] for r in listed] == [code]
    assert client.get(f"{BASE}/requests.json", {"status": "open"}).json() == []
    updates = client.get(f"{BASE}/servicerequestupdates.json", {"service_request_id": code}).json()
    steps = [u["description"] for u in updates]
    assert steps[0] == "收到您的反映" and steps[-1] == "办结" and "立案" in steps
    assert updates[-1]["status"] == "closed" and updates[0]["status"] == "open"
    token = case.citizen.follow_token
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [{"service_request_id": code, "token": token}]


def test_patrol_cases_are_not_public(client: Client, district: District) -> None:
    case = services.report(
        services.ReportInput(
            category=district.garbage, description="巡查发现", channel="patrol", lat=INSIDE[0], lon=INSIDE[1]
        )
    )
    assert client.get(f"{BASE}/requests/{case.code}.json").status_code == 404
    assert client.get(f"{BASE}/requests.json").json() == []


def test_list_by_date_window(client: Client, district: District, open311_key: str) -> None:
    old = services.report(
        services.ReportInput(
            category=district.garbage,
            description="旧投诉",
            channel="hotline",
            lat=INSIDE[0],
            lon=INSIDE[1],
            at=timezone.now() - dt.timedelta(days=200),
        )
    )
    new = post(client, "json", good(open311_key)).json()[0]["service_request_id"]
    default = [r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()]
    assert default == [new]  # last 90 days by default
    start = (timezone.now() - dt.timedelta(days=210)).isoformat()
    end = (timezone.now() - dt.timedelta(days=150)).isoformat()
    window = client.get(f"{BASE}/requests.json", {"start_date": start, "end_date": end}).json()
    assert [r["service_request_id"] for r in window] == [old.code]
    both = client.get(f"{BASE}/requests.json", {"service_request_id": f"{old.code},{new}"}).json()
    assert {r["service_request_id"] for r in both} == {old.code, new}
    by_code = client.get(f"{BASE}/requests.json", {"service_code": "C01001"}).json()
    assert by_code == []


BAD_CASES = [
    # (what, change to the good form, status, words in the description)
    ("missing service_code", {"service_code": None}, 400, "service_code was not provided"),
    ("empty service_code", {"service_code": ""}, 400, "service_code was not provided"),
    ("unknown service_code", {"service_code": "M99999"}, 404, "service_code M99999 was not found"),
    ("internal category", {"service_code": "M10001"}, 404, "was not found"),
    ("malformed service_code", {"service_code": "垃圾"}, 404, "was not found"),
    ("no location", {"lat": None, "long": None}, 400, "location was not provided"),
    ("lat without long", {"long": None}, 400, "lat and long must both be provided"),
    ("non-numeric lat", {"lat": "north"}, 400, "lat must be a number"),
    ("address_id only", {"lat": None, "long": None, "address_id": "A-1"}, 400, "address_id is not supported"),
    ("point outside the district", {"lat": OUTSIDE[0], "long": OUTSIDE[1]}, 400, "不在本区网格范围内"),
    ("missing required attribute", {"attribute[size]": None}, 400, "attribute[size] is required"),
    ("attribute outside its list", {"attribute[size]": "huge"}, 400, "not one of the listed values"),
    ("non-numeric attribute", {"attribute[weight]": "heavy"}, 400, "attribute[weight] must be a number"),
    ("description too long", {"description": "垃" * 4001}, 400, "description is longer than 4000"),
    ("bad email", {"email": "not-an-email"}, 400, "email is not a valid"),
    ("bad media_url", {"media_url": "javascript:alert(1)"}, 400, "media_url is not a valid"),
    ("missing api_key", {"api_key": None}, 400, "api_key was not provided"),
    ("wrong api_key", {"api_key": "cg_00000000_wrong"}, 403, "api_key is invalid"),
    ("other jurisdiction", {"jurisdiction_id": "sfgov.org"}, 404, "jurisdiction_id sfgov.org was not found"),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(("what", "change", "status", "words"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_input_gets_the_specified_error_and_creates_nothing(
    client: Client,
    district: District,
    open311_key: str,
    fmt: str,
    what: str,
    change: dict[str, Any],
    status: int,
    words: str,
) -> None:
    before = rows()
    response = post(client, fmt, good(open311_key, **change))
    assert response.status_code == status, response.content.decode()
    errors = errors_of(response, fmt)
    assert len(errors) == 1 and errors[0]["code"] == status
    assert words in errors[0]["description"], errors[0]["description"]
    assert rows() == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_huge_body_is_refused_before_reading(
    client: Client, district: District, open311_key: str, fmt: str
) -> None:
    before = rows()
    response = post(client, fmt, good(open311_key, description="x" * 70_000))
    assert response.status_code == 413
    assert errors_of(response, fmt)[0]["code"] == 413
    assert rows() == before


def test_revoked_key_and_key_without_scope(client: Client, district: District) -> None:
    raw = issue(["cases:read"], name="只读")
    before = rows()
    response = post(client, "json", good(raw))
    assert response.status_code == 403 and "may not create" in response.json()[0]["description"]
    writer = issue(["open311:write"])
    ApiKey.objects.get(
        key_hash=__import__("chengguan.api.models", fromlist=["hash_key"]).hash_key(writer)
    ).revoke()
    response = post(client, "json", good(writer))
    assert response.status_code == 403 and "invalid or revoked" in response.json()[0]["description"]
    assert rows() == before


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400, "90 days"),
        ({"start_date": "yesterday"}, 400, "W3C datetime"),
        (
            {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"},
            400,
            "before start_date",
        ),
        ({"status": "pending"}, 400, "status must be"),
        ({"service_code": "X1"}, 404, "was not found"),
        ({"service_code": "M99999"}, 404, "M99999 was not found"),
        ({"jurisdiction_id": "elsewhere.gov"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_list_queries(client: Client, db: Any, params: dict[str, str], status: int, words: str) -> None:
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}", params)
        assert response.status_code == status
        assert words in errors_of(response, fmt)[0]["description"]


def test_unknown_things_are_404_in_the_spec_format(client: Client, db: Any) -> None:
    assert client.get(f"{BASE}/requests/NOPE.json").status_code == 404
    assert errors_of(client.get(f"{BASE}/services/M00000.xml"), "xml")[0]["code"] == 404
    assert errors_of(client.get(f"{BASE}/tokens/unknown.json"), "json")[0]["code"] == 404
    other = client.get(f"{BASE}/whatever.json")
    assert other.status_code == 404 and json.loads(other.content)[0]["code"] == 404
    wrong_method = client.delete(f"{BASE}/services.json")
    assert wrong_method.status_code == 405


@override_settings(CHENGGUAN_API_RATE="3/min")
def test_rate_limit_per_key(client: Client, district: District, open311_key: str) -> None:
    from django.core.cache import cache

    cache.clear()
    statuses = [post(client, "json", good(open311_key)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = post(client, "xml", good(open311_key))
    assert limited.status_code == 429 and errors_of(limited, "xml")[0]["code"] == 429
    assert int(limited["Retry-After"]) >= 0
    cache.clear()


def test_xml_survives_markup_and_control_characters(
    client: Client, district: District, open311_key: str
) -> None:
    text = '<b>垃圾</b> & 污水\x0b\x00 "引号"'
    code = post(client, "json", good(open311_key, description=text)).json()[0]["service_request_id"]
    parsed = xmltodict.parse(client.get(f"{BASE}/requests/{code}.xml").content)
    assert parsed["service_requests"]["request"]["description"] == '<b>垃圾</b> & 污水 "引号"'
    assert client.get(f"{BASE}/requests/{code}.json").json()[0]["description"] == '<b>垃圾</b> & 污水 "引号"'


def test_nul_characters_are_refused_not_crashing(client: Client, district: District) -> None:
    assert client.get(f"{BASE}/requests/A%00B.json").status_code == 400
    assert client.get(f"{BASE}/requests.json", {"service_request_id": "a\x00"}).status_code == 400
    assert client.get(f"{BASE}/tokens/x%00.xml").status_code == 400
    key = issue(["cases:read"])
    assert client.get("/api/v1/cases/A%00B/", HTTP_X_API_KEY=key).status_code == 400
    assert client.get("/api/v1/cases/", {"q": "a\x00"}, HTTP_X_API_KEY=key).status_code == 400


@override_settings(CHENGGUAN_API_RATE="2/min")
def test_anonymous_reads_are_limited_per_client_address(client: Client, db: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    one = [client.get(f"{BASE}/discovery.json", REMOTE_ADDR="10.0.0.1").status_code for _ in range(3)]
    assert one == [200, 200, 429]
    assert client.get(f"{BASE}/discovery.json", REMOTE_ADDR="10.0.0.2").status_code == 200
    cache.clear()
