"""The case admin only shows: cases change through the workflow, events never change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chengguan.cases.models import Case, CaseEvent
from chengguan.cases.tests.conftest import at


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_client(world, client: Client) -> Client:
    client.force_login(User.objects.create_superuser("root", "", "x-secret-pass-1"))
    return client


def test_case_and_event_admin_are_read_only(world, admin_client: Client) -> None:
    case = world.report(at("2026-11-23", "09:00"))
    event = CaseEvent.objects.get(case=case)
    assert admin_client.get("/admin/cases/case/").status_code == 200
    assert case.code in admin_client.get("/admin/cases/case/").content.decode()
    page = admin_client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.get("/admin/cases/caseevent/").status_code == 200
    page = admin_client.get(f"/admin/cases/caseevent/{event.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    for url in (
        "/admin/cases/case/add/",
        "/admin/cases/caseevent/add/",
        f"/admin/cases/caseevent/{event.pk}/delete/",
        f"/admin/cases/case/{case.pk}/delete/",
    ):
        assert admin_client.get(url).status_code == 403, url
    # a forged edit changes nothing
    admin_client.post(f"/admin/cases/caseevent/{event.pk}/change/", {"note": "篡改", "label": "x"})
    event.refresh_from_db()
    assert event.note == "" and event.label == "上报"
    response = admin_client.post(
        "/admin/cases/caseevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert CaseEvent.objects.filter(pk=event.pk).exists()
    assert Case.objects.filter(pk=case.pk).exists()
    assert response.status_code in {200, 302}
