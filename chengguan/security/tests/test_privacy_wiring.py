"""Citizens' names and numbers are masked wherever they can appear (issue 8, part 3): pages,
exports, the REST API, Open311, webhooks and the admin; the posts that call citizens back see
them on request, and every such view leaves one PersonalDataAccess row."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.test import Client

from chengguan.api.models import Scope
from chengguan.api.tests.conftest import issue
from chengguan.api.webhooks import payload_of
from chengguan.cases import services
from chengguan.cases.models import CaseEvent
from chengguan.security.models import PersonalDataAccess
from chengguan.security.privacy import mask_name, mask_phone
from chengguan.security.templatetags.privacy import event_actor
from chengguan.security.tests.test_access_matrix import CITIZEN, PHONE, World, build_world

MASKED_PHONE = mask_phone(PHONE)  # 139****5678
MASKED_NAME = mask_name(CITIZEN)  # 欧***


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def body_text(response: Any) -> str:
    """The answer as text; an XLSX is unzipped so its cells are searched too."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return content.decode("utf-8", "replace")


def signed_in(world: World, who: str) -> Client:
    client = Client()
    client.force_login(world.users[who])
    return client


def pages(world: World) -> list[str]:
    code = world.case_x.code
    event = world.case_x.events.order_by("seq").first()
    assert event is not None
    return [
        "/command/",
        "/command/?q=" + code,
        "/unit/",
        "/m/",
        f"/cases/{code}/",
        f"/cases/{code}/actions/",
        f"/cases/{code}/?reveal=contact",  # asked by someone who may not: still masked
        "/dashboard/",
        "/dashboard/export/units.xlsx",
        "/bigscreen/data.json",
        "/grid/",
        "/assessment/?list=1",
        "/admin/cases/case/",
        f"/admin/cases/case/{world.case_x.pk}/change/",
        "/admin/cases/caseevent/",
        f"/admin/cases/caseevent/{event.pk}/change/",
        "/api/v1/cases/",
        f"/api/v1/cases/{code}/",
        f"/api/v1/cases/{code}/events/",
    ]


NO_RIGHT = ["inspector", "handler", "assessor", "leader", "officer", "administrator"]


@pytest.mark.parametrize("who", NO_RIGHT)
def test_posts_without_the_right_never_get_the_number_or_the_name(world: World, who: str) -> None:
    client = signed_in(world, who)
    answered = 0
    for url in pages(world):
        response = client.get(url)
        if response.status_code != 200:
            continue  # not this post's page (the matrix checks who may open what)
        answered += 1
        text = body_text(response)
        assert PHONE not in text, f"{who} sees the number at {url}"
        assert CITIZEN not in text, f"{who} sees the name at {url}"
    assert answered >= 2  # the assessor and the officer open the grid and the assessment only
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.parametrize("who", ["operator", "shift_leader", "dispatcher"])
def test_the_command_centre_sees_masked_values_until_it_asks(world: World, who: str) -> None:
    client = signed_in(world, who)
    for url in pages(world):
        if "reveal=contact" in url:
            continue
        response = client.get(url)
        if response.status_code == 200:
            text = body_text(response)
            assert PHONE not in text and CITIZEN not in text, url
    page = client.get(f"/cases/{world.case_x.code}/").content.decode()
    assert MASKED_PHONE in page and MASKED_NAME in page and "?reveal=contact" in page
    assert PersonalDataAccess.objects.count() == 0

    revealed = client.get(f"/cases/{world.case_x.code}/?reveal=contact").content.decode()
    assert PHONE in revealed and CITIZEN in revealed
    row = PersonalDataAccess.objects.get()
    assert row.user == world.users[who] and row.case == world.case_x
    assert row.fields == ["name", "phone"] and row.where == "web:case"
    assert row.ip_address == "127.0.0.1"


def test_api_reveals_only_to_a_personal_read_key_that_asks(world: World) -> None:
    url = f"/api/v1/cases/{world.case_x.code}/"
    reader = issue([Scope.CASES_READ])
    personal = issue([Scope.CASES_READ, Scope.PERSONAL_READ], name="12345 热线系统")
    for key, query in ((reader, ""), (reader, "?reveal=contact"), (personal, "")):
        answer = Client().get(url + query, headers={"X-Api-Key": key})
        assert answer.status_code == 200
        text = answer.content.decode()
        assert PHONE not in text and CITIZEN not in text
        citizen = answer.json()["citizen"]
        assert citizen == {"name": MASKED_NAME, "phone": MASKED_PHONE, "email": "", "revealed": False}
    assert PersonalDataAccess.objects.count() == 0

    answer = Client().get(url + "?reveal=contact", headers={"X-Api-Key": personal}).json()
    assert answer["citizen"] == {"name": CITIZEN, "phone": PHONE, "email": "", "revealed": True}
    assert PHONE in answer["description"]
    row = PersonalDataAccess.objects.get()
    assert (
        row.user is None and row.case_code == world.case_x.code and row.where.startswith("api:case key cg_")
    )


def test_api_sessions_follow_the_page_rule(world: World) -> None:
    url = f"/api/v1/cases/{world.case_x.code}/?reveal=contact"
    assert PHONE not in signed_in(world, "leader").get(url).content.decode()
    assert PersonalDataAccess.objects.count() == 0
    answer = signed_in(world, "dispatcher").get(url).json()
    assert answer["citizen"]["phone"] == PHONE
    assert PersonalDataAccess.objects.get().user == world.users["dispatcher"]


def test_open311_never_carries_contact_details(world: World) -> None:
    code = world.case_x.code
    for url in (
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        f"/open311/v2/requests/{code}.json",
        f"/open311/v2/servicerequestupdates.json?service_request_id={code}",
    ):
        response = Client().get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        assert PHONE not in text and CITIZEN not in text, url
    one = Client().get(f"/open311/v2/requests/{code}.json").json()[0]
    assert MASKED_PHONE in one["description"]


def test_webhook_payloads_carry_no_number(world: World) -> None:
    services.transition(
        world.case_x.pk,
        services.TransitionInput("accept", note=f"已电话联系举报人 {PHONE}"),
        world.users["handler"],
    )
    noted = world.case_x.events.order_by("seq").last()
    assert noted is not None and PHONE in noted.note  # the history keeps what was written
    assert MASKED_PHONE in str(payload_of(noted))
    for event in CaseEvent.objects.filter(case=world.case_x).select_related(
        "case__category", "case__territory", "case__lead_unit"
    ):
        text = str(payload_of(event))
        assert PHONE not in text and CITIZEN not in text


def test_explain_views_show_a_citizen_actor_masked(world: World) -> None:
    first = world.case_x.events.order_by("seq").first()
    assert first is not None and first.actor_role == "citizen" and first.actor_name == CITIZEN
    assert event_actor(first) == MASKED_NAME
    staff_event = world.case_x.events.order_by("seq").last()
    assert staff_event is not None and event_actor(staff_event) == staff_event.actor_name


def test_admin_event_search_by_name_finds_officers_never_citizens(world: World) -> None:
    """Searching the event list for a citizen's name finds nothing (it would tell which cases
    that person reported); an officer's name and a case code still find their events."""
    admin = signed_in(world, "administrator")
    staff_event = world.case_x.events.exclude(actor_role="citizen").exclude(actor_name="").first()
    assert staff_event is not None

    def found(term: str) -> Any:
        response = admin.get("/admin/cases/caseevent/", {"q": term})
        assert response.status_code == 200
        return response.context["cl"].queryset

    assert not found(CITIZEN).filter(actor_role="citizen").exists()
    assert not found(CITIZEN).filter(case=world.case_x).exists()
    assert found(staff_event.actor_name).filter(pk=staff_event.pk).exists()
    assert found(world.case_x.code).filter(case=world.case_x).count() == world.case_x.events.count()
