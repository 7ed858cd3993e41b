import pytest

from chengguan.catalog.models import Category
from chengguan.org.models import OrgUnit
from chengguan.routing.models import RoutingRule


@pytest.mark.django_db
def test_routing_admin_lists_searches_and_explains_the_place(admin_client) -> None:
    category = Category.objects.create(
        kind="matter", code="09006", major_code="09", major_name="街面秩序", name="占道经营"
    )
    town = OrgUnit.objects.create(code="T01", name="东岭街道", kind="subdistrict")
    brigade = OrgUnit.objects.create(
        code="B01", name="东岭街道综合行政执法中队", kind="brigade", territory=town
    )
    RoutingRule.objects.create(category=category, territory=town, lead_unit=brigade)
    response = admin_client.get("/admin/routing/routingrule/", {"q": "占道"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "东岭街道综合行政执法中队" in body and "东岭街道" in body
    assert admin_client.get("/admin/routing/routingrule/add/").status_code == 200


@pytest.mark.django_db
def test_a_rule_for_a_non_territory_is_refused_in_the_admin(admin_client) -> None:
    category = Category.objects.create(
        kind="matter", code="09006", major_code="09", major_name="街面秩序", name="占道经营"
    )
    dept = OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department")
    response = admin_client.post(
        "/admin/routing/routingrule/add/",
        {
            "category": category.pk,
            "territory": dept.pk,
            "grid_code": "",
            "lead_unit": dept.pk,
            "note": "",
            "active": "on",
        },
    )
    assert response.status_code == 200  # form redisplayed with the error
    assert RoutingRule.objects.count() == 0
