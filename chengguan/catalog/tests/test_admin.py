"""The catalogue's admin pages answer a superuser, in Chinese, with search and filters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from chengguan.catalog.models import Category, LegacyCode, PowerItem, TimeLimit
from chengguan.catalog.services import LoadReport
from chengguan.org.models import FunctionalDomain

pytestmark = pytest.mark.django_db


CHANGELISTS = [
    ("category", ""),
    ("category", "?q=井盖"),
    ("category", "?kind__exact=matter&major_code__exact=01&round_the_clock__exact=1"),
    ("category", "?assessment_tier__exact=zero_tolerance&public__exact=1&active__exact=1"),
    ("legacycode", ""),
    ("legacycode", "?matched=no"),
    ("legacycode", "?matched=yes&q=井盖"),
    ("legacycode", "?match__exact=manual"),
    ("timelimit", ""),
    ("timelimit", "?step__exact=handle&area_class__exact=A&q=06010"),
    ("poweritem", ""),
    ("poweritem", "?effective=current"),
    ("poweritem", "?effective=future"),
    ("poweritem", "?effective=expired&q=噪声"),
    ("poweritem", "?responsible_unit_kind__exact=brigade"),
]


def test_changelists(admin_client: Client, loaded: LoadReport) -> None:
    # One loaded catalogue for all pages: loading it costs far more than a page.
    for model, query in CHANGELISTS:
        response = admin_client.get(reverse(f"admin:catalog_{model}_changelist") + query)
        assert response.status_code == 200, (model, query)


def test_lists_show_what_the_filters_promise(admin_client: Client, loaded: LoadReport) -> None:
    unmatched = admin_client.get(reverse("admin:catalog_legacycode_changelist") + "?matched=no")
    assert (
        unmatched.context["cl"].result_count == LegacyCode.objects.filter(category__isnull=True).count() == 13
    )
    expired = admin_client.get(reverse("admin:catalog_poweritem_changelist") + "?effective=expired")
    assert [p.code for p in expired.context["cl"].result_list] == ["HB-003"]
    current = admin_client.get(reverse("admin:catalog_poweritem_changelist") + "?effective=current")
    assert current.context["cl"].result_count == 23
    sanitation = FunctionalDomain.objects.get(code="sanitation")
    by_domain = admin_client.get(
        reverse("admin:catalog_category_changelist") + f"?domain__id__exact={sanitation.pk}"
    )
    assert by_domain.context["cl"].result_count == Category.objects.filter(domain=sanitation).count() > 0
    search = admin_client.get(reverse("admin:catalog_category_changelist") + "?q=暴露垃圾")
    assert [c.code for c in search.context["cl"].result_list] == ["06010"]
    assert "部件事项类别" in search.content.decode()


def test_change_pages_and_editing_local_fields(admin_client: Client, loaded: LoadReport) -> None:
    category = Category.objects.get(kind="matter", code="06010")
    url = reverse("admin:catalog_category_change", args=[category.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "本地设置" in body and "环节时限" in body and "立案条件" in body

    limits = list(category.time_limits.order_by("pk"))
    form = {
        "domain": category.domain_id,
        "legal_basis": category.legal_basis,
        "registration_criteria": category.registration_criteria,
        "closure_criteria": "本局：清理后拍照",
        "assessment_tier": "strict",
        "disposition_mode": "service",
        "public": "on",
        "active": "on",
        "time_limits-TOTAL_FORMS": str(len(limits)),
        "time_limits-INITIAL_FORMS": str(len(limits)),
        "time_limits-MIN_NUM_FORMS": "0",
        "time_limits-MAX_NUM_FORMS": "1000",
    }
    for i, limit in enumerate(limits):
        form |= {
            f"time_limits-{i}-id": limit.pk,
            f"time_limits-{i}-category": category.pk,
            f"time_limits-{i}-step": limit.step,
            f"time_limits-{i}-area_class": limit.area_class,
            f"time_limits-{i}-work_kind": limit.work_kind,
            f"time_limits-{i}-hours": "3"
            if (limit.step, limit.area_class) == ("handle", "A")
            else limit.hours,
            f"time_limits-{i}-source": limit.source,
        }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    category.refresh_from_db()
    assert (category.closure_criteria, category.assessment_tier) == ("本局：清理后拍照", "strict")
    assert category.name == "暴露垃圾"  # national fields are read-only here
    assert TimeLimit.objects.get(category=category, step="handle", area_class="A").hours == Decimal(3)

    for model, obj in [
        ("legacycode", LegacyCode.objects.get(kind="component", code="0101")),
        ("timelimit", TimeLimit.objects.first()),
        ("poweritem", PowerItem.objects.get(code="SRHW-010")),
    ]:
        assert obj is not None
        assert admin_client.get(reverse(f"admin:catalog_{model}_change", args=[obj.pk])).status_code == 200
    for model in ["category", "timelimit", "poweritem"]:
        assert admin_client.get(reverse(f"admin:catalog_{model}_add")).status_code == 200
    # Categories are retired, never deleted: cases and old codes point at them.
    delete = admin_client.get(reverse("admin:catalog_category_delete", args=[category.pk]))
    assert delete.status_code == 403


def test_category_autocomplete_for_other_apps(admin_client: Client, loaded: LoadReport) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "井盖", "app_label": "catalog", "model_name": "timelimit", "field_name": "category"},
    )
    assert response.status_code == 200
    assert any("供水井盖" in item["text"] for item in response.json()["results"])
