"""Conformance through Open311 client libraries from PyPI, used as they are, over real HTTP
against the live server: ``georeport`` (reads, JSON and XML) and ``civicbot`` (creates,
checking the form against the live service definition first).

No Python 3 client on PyPI creates requests in XML (``three`` and ``open311`` are Python 2
only), so the XML create goes through ``requests`` — the HTTP library georeport itself uses —
and is read back through georeport in XML mode.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
import xmltodict
from civicbot.http import HttpError, HttpTransport, RateLimiter
from civicbot.open311 import Open311Client, ValidationError
from civicbot.registry import Endpoint
from django.utils import timezone
from georeport import GeoReport

from chengguan.api.models import Open311Request, Scope
from chengguan.api.tests.conftest import INSIDE, OUTSIDE, District, check_schema, issue
from chengguan.cases.models import Case

JURISDICTION = "150402"

pytestmark = pytest.mark.django_db(transaction=True)


def as_list(value: Any) -> list[Any]:
    """xmltodict gives a dict for one repeated element and a list for several."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@pytest.fixture
def base(live_server: Any, live_district: District) -> str:
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def key(live_district: District) -> str:
    return issue([Scope.OPEN311_WRITE], name="civicbot 测试")


def civicbot(base: str) -> Open311Client:
    endpoint = Endpoint(id="chengguan-test", name="测试区", base_url=base, write=True)
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0))
    return Open311Client(endpoint, transport=transport, jurisdiction_id=JURISDICTION, fmt="json")


def create_with_civicbot(base: str, key: str, **kwargs: Any) -> str:
    prepared = civicbot(base).create_request(
        "M06010",
        dry_run=False,
        confirm="SEND",
        api_key=key,
        validate_remote=True,  # reads services + the definition, checks required attributes
        lat=INSIDE[0],
        lng=INSIDE[1],
        description="路口成堆建筑垃圾",
        attributes={"size": "large", "weight": "300"},
        email="zhang@example.cn",
        first_name="三",
        last_name="张",
        media_url="https://img.example.cn/heap.jpg",
        **kwargs,
    )
    response = prepared.response
    check_schema_free_create(response)
    return str(response[0]["service_request_id"])


def check_schema_free_create(response: Any) -> None:
    # The POST answer has no schema in the set; the spec: a list with an id xor a token.
    assert isinstance(response, list) and len(response) == 1
    assert "service_request_id" in response[0] and "token" not in response[0]


def test_json_mode_list_define_create_read_back_and_list(base: str, key: str) -> None:
    reader = GeoReport(base, jurisdiction=JURISDICTION, output_format="json")
    services = reader.get_service_list()
    check_schema("services.json", services)
    assert {s["service_code"] for s in services} == {"M06010", "C01001"}
    definition = reader.get_service_definition("M06010")
    check_schema("service-definition.json", definition)
    assert definition["attributes"][0]["required"] is True

    code = create_with_civicbot(base, key)
    case = Case.objects.get(code=code)
    assert case.channel == "open311" and Open311Request.objects.get(case=case).attributes == {
        "size": "large",
        "weight": 300.0,
    }

    one = reader.get_service_request(code)
    check_schema("request.json", one)
    assert one["service_request_id"] == code and one["status"] == "open"
    assert one["media_url"] == "https://img.example.cn/heap.jpg"
    assert one["lat"] == pytest.approx(INSIDE[0]) and one["long"] == pytest.approx(INSIDE[1])

    start = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = reader.get_service_requests(start_date=start, end_date=end, status="open")
    check_schema("requests.json", listed)
    assert [r["service_request_id"] for r in listed] == [code]
    assert reader.get_service_requests(start_date=start, end_date=end, status="closed") == []
    by_code = reader.get_service_requests(service_code="M06010")
    assert [r["service_request_id"] for r in by_code] == [code]
    # civicbot reads the same thing back
    assert civicbot(base).get_request(code)["service_request_id"] == code


def test_xml_mode_list_define_create_read_back_and_list(base: str, key: str) -> None:
    reader = GeoReport(base, jurisdiction=JURISDICTION, output_format="xml")
    json_reader = GeoReport(base, jurisdiction=JURISDICTION, output_format="json")
    services = as_list(reader.get_service_list())
    assert [s["service_code"] for s in services] == [
        s["service_code"] for s in json_reader.get_service_list()
    ]
    assert services[0]["metadata"] in ("true", "false") and services[0]["type"] == "realtime"
    definition = reader.get_service_definition("M06010")
    attributes = as_list(definition["attributes"]["attribute"])
    assert attributes[0]["code"] == "size" and attributes[0]["required"] == "true"
    assert [v["key"] for v in as_list(attributes[0]["values"]["value"])] == ["small", "large"]

    form = {
        "api_key": key,
        "jurisdiction_id": JURISDICTION,
        "service_code": "M06010",
        "lat": INSIDE[0],
        "long": INSIDE[1],
        "description": "XML 客户端上报：垃圾满溢",
        "attribute[size]": "small",
    }
    posted = requests.post(f"{base}/requests.xml", data=form, timeout=10)
    assert posted.status_code == 200
    assert posted.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert posted.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    code = xmltodict.parse(posted.content)["service_requests"]["request"]["service_request_id"]

    one = reader.get_service_request(code)
    same = json_reader.get_service_request(code)
    check_schema("request.json", same)
    for field, value in same.items():  # the XML carries exactly the JSON's data
        expected = "" if value is None else value
        got = one[field] or ""
        if isinstance(value, float):
            assert float(got) == pytest.approx(value), field
        else:
            assert got == str(expected), field

    start = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = as_list(reader.get_service_requests(start_date=start, end_date=end, status="open"))
    assert [r["service_request_id"] for r in listed] == [code]


def test_client_side_and_server_side_refusals(base: str, key: str) -> None:
    before = Case.objects.count()
    with pytest.raises(ValidationError, match="required attribute 'size' missing"):
        civicbot(base).create_request(
            "M06010", dry_run=False, confirm="SEND", api_key=key, validate_remote=True, lat=1.0, lng=1.0
        )
    with pytest.raises(HttpError) as outside:
        civicbot(base).create_request(
            "M06010",
            dry_run=False,
            confirm="SEND",
            api_key=key,
            lat=OUTSIDE[0],
            lng=OUTSIDE[1],
            attributes={"size": "small"},
        )
    assert outside.value.status == 400 and "不在本区网格范围内" in outside.value.body
    with pytest.raises(HttpError) as wrong_key:
        civicbot(base).create_request(
            "M06010", dry_run=False, confirm="SEND", api_key="cg_bad", lat=INSIDE[0], lng=INSIDE[1]
        )
    assert wrong_key.value.status == 403
    with pytest.raises(requests.HTTPError) as unknown:
        GeoReport(base, output_format="xml").get_service_definition("M99999")
    assert unknown.value.response.status_code == 404
    assert Case.objects.count() == before
