"""`chengguan demo` builds the seed-shaped district and a second run changes nothing."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command

from chengguan.org.models import OrgUnit, Staff, StaffRole, UnitKind


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


@pytest.mark.django_db
def test_demo_is_shaped_like_the_seed_and_idempotent() -> None:
    out = io.StringIO()
    call_command("demo", "--no-grid", stdout=out)
    first = row_counts()
    text = out.getvalue()
    assert "演示区已就绪" in text and "admin" in text

    assert OrgUnit.objects.filter(committee_member=True).count() == 42
    assert OrgUnit.objects.filter(in_grid=True).count() == 27
    assert OrgUnit.objects.filter(kind__in=[UnitKind.TOWN, UnitKind.SUBDISTRICT]).count() == 10
    brigades = OrgUnit.objects.filter(kind=UnitKind.BRIGADE)
    assert brigades.count() == 10 and not brigades.filter(territory__isnull=True).exists()
    assert Staff.objects.filter(role=StaffRole.ASSISTANT).count() == 550
    assert Staff.objects.filter(role=StaffRole.BICYCLE_ASSISTANT).count() == 160
    assert first["catalog.Category"] == 403

    out = io.StringIO()
    call_command("demo", "--no-grid", stdout=out)
    assert row_counts() == first
    assert "无（已是最新）" in out.getvalue()
