"""Admin pages answer for a superuser, search works, and import/export run from the browser side."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chengguan.org.models import Equipment, EquipmentKind, OrgUnit, Staff, Vehicle, VehicleKind
from chengguan.org.tests.samples import UNITS, units_file, with_cell

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit(staffed):
    holder = Staff.objects.get(code="XT0001")
    Equipment.objects.create(code="ZD-XT-T01", kind=EquipmentKind.TERMINAL, unit=holder.unit, holder=holder)
    Vehicle.objects.create(code="ZD-XT-B01", kind=VehicleKind.BICYCLE, unit=holder.unit, holder=holder)


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("functionaldomain", "市容", "市容环卫"),
        ("orgunit", "西屯", "西屯街道办事处"),
        ("orgunit", "HS-ZD", "红山区综合行政执法局西屯中队"),
        ("staff", "张伟", "XT0001"),
        ("staff", "13904761234", "张伟"),
        ("equipment", "ZD-XT", "ZD-XT-T01"),
        ("vehicle", "张伟", "ZD-XT-B01"),
    ],
)
def test_changelist_and_search(admin_client, kit, model, query, expected):
    url = reverse(f"admin:org_{model}_changelist")

    assert admin_client.get(url).status_code == 200
    response = admin_client.get(url, {"q": query})

    assert response.status_code == 200
    assert expected in response.content.decode()


@pytest.mark.parametrize(
    ("model", "params"),
    [
        ("orgunit", {"kind__exact": "brigade"}),
        ("orgunit", {"committee_member__exact": "1", "in_grid__exact": "1"}),
        ("orgunit", {"domains__id__exact": "1"}),
        ("staff", {"role__exact": "inspector", "unit_kind": "brigade"}),
        ("equipment", {"unit_kind": "brigade"}),
    ],
)
def test_filters(admin_client, kit, model, params):
    response = admin_client.get(reverse(f"admin:org_{model}_changelist"), params)

    assert response.status_code == 200
    assert "errornote" not in response.content.decode()


def test_change_pages(admin_client, kit):
    unit = OrgUnit.objects.get(code="HS-ZD-XT")
    person = Staff.objects.get(code="XT0001")

    assert admin_client.get(reverse("admin:org_orgunit_change", args=[unit.pk])).status_code == 200
    page = admin_client.get(reverse("admin:org_staff_change", args=[person.pk]))
    assert page.status_code == 200
    assert "ZD-XT-T01" in page.content.decode()  # the equipment inline
    assert admin_client.get(reverse("admin:org_orgunit_add")).status_code == 200


def test_territory_autocomplete_offers_only_towns_and_subdistricts(admin_client, org_chart):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "org", "model_name": "orgunit", "field_name": "territory", "term": ""},
    )

    assert response.status_code == 200
    names = {item["text"] for item in response.json()["results"]}
    assert names == {"西屯街道办事处", "永巨街道办事处", "红庙子镇人民政府"}


def test_admin_form_refuses_a_brigade_without_territory(admin_client, org_chart):
    response = admin_client.post(
        reverse("admin:org_orgunit_add"),
        {"code": "HS-ZD-NEW", "name": "新中队", "kind": "brigade", "active": "on"},
    )

    assert response.status_code == 200
    assert "执法中队必须指定所属镇街" in response.content.decode()
    assert not OrgUnit.objects.filter(code="HS-ZD-NEW").exists()


@pytest.mark.parametrize(("action", "marker"), [("export_csv", b"\xef\xbb\xbf"), ("export_xlsx", b"PK")])
def test_export_actions(admin_client, staffed, action, marker):
    for model, queryset in (("orgunit", OrgUnit.objects.all()), ("staff", Staff.objects.all())):
        response = admin_client.post(
            reverse(f"admin:org_{model}_changelist"),
            {"action": action, "_selected_action": [str(pk) for pk in queryset.values_list("pk", flat=True)]},
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response.content.startswith(marker)


def test_import_page(admin_client, domains):
    url = reverse("admin:org_orgunit_import")

    page = admin_client.get(url)
    assert page.status_code == 200
    assert "单位编码" in page.content.decode()
    assert url in admin_client.get(reverse("admin:org_orgunit_changelist")).content.decode()

    upload = SimpleUploadedFile("units.xlsx", units_file("xlsx"))
    checked = admin_client.post(url, {"file": upload, "dry_run": "on"})
    assert "校验通过" in checked.content.decode()
    assert OrgUnit.objects.count() == 0

    done = admin_client.post(url, {"file": SimpleUploadedFile("units.xlsx", units_file("xlsx"))})
    assert "导入完成" in done.content.decode()
    assert OrgUnit.objects.count() == len(UNITS)


def test_import_page_lists_row_errors(admin_client, domains):
    bad = units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "类型", "科室"))

    response = admin_client.post(
        reverse("admin:org_orgunit_import"), {"file": SimpleUploadedFile("units.csv", bad)}
    )

    content = response.content.decode()
    assert "import-errors" in content and "未知的单位类型「科室」" in content
    assert OrgUnit.objects.count() == 0


def test_staff_import_page(admin_client, org_chart):
    from chengguan.org.tests.samples import staff_file

    response = admin_client.post(
        reverse("admin:org_staff_import"),
        {"file": SimpleUploadedFile("staff.csv", staff_file()), "create_users": "on"},
    )

    assert "导入完成" in response.content.decode()
    assert Staff.objects.count() == 6


def test_import_page_needs_permission(client, django_user_model, domains):
    clerk = django_user_model.objects.create_user(username="clerk", is_staff=True)
    client.force_login(clerk)

    assert client.get(reverse("admin:org_orgunit_import")).status_code == 403
