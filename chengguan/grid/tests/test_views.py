from __future__ import annotations

import json

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from chengguan.grid import views
from chengguan.grid.generator import TerritoryInput, generate_grid
from chengguan.grid.models import DutyRole, GridCell
from chengguan.grid.services import assign_duty, import_grid, save_generated
from chengguan.grid.tests.conftest import metres_box, metres_polygon
from chengguan.grid.tests.test_services import sources
from chengguan.grid.validation import validate
from chengguan.org.models import OrgUnit, Staff, StaffRole, UnitKind

DISTRICT = metres_polygon([(0, 0), (700, 0), (700, 500), (0, 500)])


def make_grid():
    territory = OrgUnit.objects.create(code="150402001", name="试验街道", kind=UnitKind.SUBDISTRICT)
    grid = generate_grid(
        DISTRICT, [TerritoryInput(territory.pk, "001", territory.name)], county_code="150402"
    )
    outcome = save_generated(
        grid,
        validate(grid.validation_inputs(), boundary=DISTRICT),
        name="试验网格",
        territory_ids={territory.pk: territory.pk},
    )
    bureau = OrgUnit.objects.create(code="B01", name="城管局", kind=UnitKind.BUREAU)
    staff = Staff.objects.create(
        code="X001", name="赵巡查", role=StaffRole.INSPECTOR, unit=bureau, phone="13800000000"
    )
    for cell in GridCell.objects.filter(layer=outcome.layer, level=4):
        assign_duty(cell, staff, DutyRole.INSPECTOR)
    return outcome.layer


@pytest.mark.django_db
def test_pages_need_a_login(client):
    response = client.get(reverse("grid:map"))
    assert response.status_code == 302 and django_settings.LOGIN_URL.split(":")[-1] in response["Location"]


@pytest.mark.django_db
def test_map_without_grid_says_how_to_make_one(admin_client):
    body = admin_client.get(reverse("grid:map")).content.decode()
    assert "当前没有在用的网格" in body and "grid-config" not in body


@pytest.mark.django_db
def test_map_page_and_viewport_geojson(admin_client, monkeypatch):
    layer = make_grid()
    body = admin_client.get(reverse("grid:map")).content.decode()
    assert "单元网格（35）" in body and 'id="grid-config"' in body
    url = reverse("grid:cells")
    west, south, east, north = metres_box(0, 0, 150, 150).bounds
    data = admin_client.get(
        url, {"level": 4, "bbox": f"{west},{south},{east},{north}", "layer": layer.pk}
    ).json()
    codes = sorted(f["properties"]["code"] for f in data["features"])
    assert codes and all(code.startswith("150402001") and len(code) == 15 for code in codes)
    assert len(codes) < 35
    monkeypatch.setattr(views, "MAX_FEATURES", 3)
    crowded = admin_client.get(url, {"level": 4, "bbox": f"{west},{south},{east},{north}"}).json()
    assert crowded["too_many"] and crowded["features"] == []
    bad = admin_client.get(url, {"level": 7, "bbox": "1,2,3,4"})
    assert bad.status_code == 400 and "层级" in bad.json()["error"]
    assert "bbox" in admin_client.get(url, {"level": 4, "bbox": "东,南"}).json()["error"]


@pytest.mark.django_db
def test_cell_panel_lists_people_and_parents(admin_client):
    make_grid()
    cell = GridCell.objects.filter(level=4).order_by("code").first()
    body = admin_client.get(reverse("grid:cell", args=[cell.pk])).content.decode()
    assert cell.name in body and cell.code in body
    assert "赵巡查" in body and "巡查员" in body and "13800000000" in body
    assert "试验街道管理网格" in body and "在办案件（0）" in body
    empty = GridCell.objects.filter(level=1).first()
    assert "尚未指定责任人" in admin_client.get(reverse("grid:cell", args=[empty.pk])).content.decode()


@pytest.mark.django_db
def test_report_page_draws_the_problems(admin_client, tmp_path):
    from chengguan.grid.tests.conftest import two_by_two

    broken = two_by_two()
    broken[2] = (metres_box(190, 0, 400, 200), broken[2][1])
    layer = import_grid(sources(tmp_path, broken), name="有重叠").layer
    response = admin_client.get(reverse("grid:layer", args=[layer.pk]))
    body = response.content.decode()
    assert "重叠" in body and "社区00" in body
    config = response.context["config"]
    assert any(f["properties"]["kind"] == "overlap" for f in config["issues"]["features"])
    json.dumps(config)
    assert "有重叠" in admin_client.get(reverse("grid:layers")).content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_map_in_chromium_toggles_a_level_and_opens_a_cell(page, live_server, admin_user, client, settings):
    settings.CHENGGUAN_MAP_TILES = ""  # offline: a plain background instead of map tiles
    make_grid()
    client.force_login(admin_user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page.goto(live_server.url + reverse("grid:map"))
    page.wait_for_selector("#grid-map[data-loaded]")
    unit_box = page.locator("input[data-level='4']")
    assert not unit_box.is_checked()
    first_load = page.locator("#grid-map").get_attribute("data-loaded")
    unit_box.check()
    page.wait_for_function("v => document.getElementById('grid-map').dataset.loaded !== v", arg=first_load)
    box = page.locator("#grid-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert "单元网格" in tooltip.inner_text()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.locator("#grid-panel .cell-title").wait_for()
    panel = page.locator("#grid-panel").inner_text()
    assert "单元网格" in panel and "赵巡查" in panel
    assert page.console_errors == []
