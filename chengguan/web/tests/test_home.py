import pytest
from django.test import Client

from chengguan.org.models import OrgUnit, UnitKind


@pytest.mark.django_db
def test_home_speaks_chinese_and_counts_units(client: Client) -> None:
    OrgUnit.objects.create(code="B001", name="示例区综合行政执法局", kind=UnitKind.BUREAU)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "城管综合管理平台" in body
    assert response.context["overview"].units == 1


@pytest.mark.django_db
def test_healthz_reports_database(client: Client) -> None:
    response = client.get("/healthz")
    assert response.json()["status"] == "ok"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_home_renders_in_chromium(page, live_server) -> None:
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "城管综合管理平台"
    assert page.console_errors == []
