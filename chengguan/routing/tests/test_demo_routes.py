"""The demo district's responsibility matrix covers every category in every territory."""

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.catalog.models import Category
from chengguan.demo.builder import build
from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit, UnitKind
from chengguan.routing import services
from chengguan.routing.routing import Place


@pytest.fixture
def demo_org(db):
    import io

    from chengguan.core.progress import Progress

    build(Progress(io.StringIO()), with_grid=False)


@pytest.mark.django_db
def test_every_category_territory_pair_has_a_route(demo_org) -> None:
    categories = list(Category.objects.filter(active=True).values_list("pk", flat=True))
    territories = list(OrgUnit.objects.filter(kind__in=TERRITORIAL_KINDS).values_list("pk", flat=True))
    assert len(categories) > 400 and len(territories) == 10
    index = services.load_index()
    active_units = set(OrgUnit.objects.filter(active=True).values_list("pk", flat=True))

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.sampled_from(categories), st.sampled_from(territories))
    def routed(category_id: int, territory_id: int) -> None:
        found = index.route(category_id, Place(territory_id=territory_id))
        assert found is not None
        assert found.lead_unit_id in active_units
        assert found.lead_unit_id not in found.co_handler_ids

    routed()
    assert services.unrouted() == []


@pytest.mark.django_db
def test_street_order_goes_to_the_local_brigade(demo_org) -> None:
    stall = Category.objects.get(kind="matter", code="09006")  # 占道经营
    town = OrgUnit.objects.get(code="T03")
    answer = services.route(stall, territory=town)
    assert answer is not None
    assert answer.lead_unit.kind == UnitKind.BRIGADE and answer.lead_unit.territory == town
    assert answer.reason == "所属镇街的规则"
    cover = Category.objects.get(kind="matter", code="01001")  # 供水井盖异常
    answer = services.route(cover, territory=town)
    assert answer is not None and answer.lead_unit.code == "U01" and answer.reason == "全区默认规则"


@pytest.mark.django_db
def test_check_routes_names_the_gaps(demo_org, capsys) -> None:
    call_command("check_routes")
    assert "责任矩阵完整" in capsys.readouterr().out
    town = OrgUnit.objects.get(code="T05")
    stall = Category.objects.get(kind="matter", code="09006")
    stall.routing_rules.filter(territory=town).update(active=False)
    with pytest.raises(Exception) as failure:
        call_command("check_routes")
    assert "1 个类别" in str(failure.value)
    assert f"{stall}：{town.name}" in capsys.readouterr().out
