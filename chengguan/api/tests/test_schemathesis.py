"""Property-based run of schemathesis over the OpenAPI document, against the Django WSGI app
in-process (no network), authenticated with a test key holding every scope.

Bounded and repeatable: 20 examples per operation, derandomized (fixed seed). Every check
schemathesis runs by default must pass: no 5xx, every status, content type and body as the
schema documents them, undocumented input refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from chengguan.api.tests.conftest import ALL_SCOPES, INSIDE, District, issue
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


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case: Any, full_key: str) -> None:
    # Every default check but one: "positive data acceptance" expects any schema-valid input to
    # be taken, while the domain still refuses some with a 400 naming the field (a category
    # code that is not in the catalogue, a point outside the district, a URL whose host
    # Django's validator rejects). Those are answers, not schema violations.
    case.call_and_validate(
        headers={"X-Api-Key": full_key}, excluded_checks=[schemathesis.checks.positive_data_acceptance]
    )
