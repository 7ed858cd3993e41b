"""The case page: details, photos, timeline, actions from the workflow, stale forms, refusals."""

from __future__ import annotations

import sys
import types
from decimal import Decimal

import pytest
from django.test import Client

from chengguan.cases.models import Attachment, Case
from chengguan.security.models import PersonalDataAccess
from chengguan.web.tests.conftest import Site, photo

pytestmark = pytest.mark.django_db


def test_timeline_lists_every_event_with_actor_post_states_note_and_deadline(site: Site) -> None:
    case = site.to("checking")
    case = site.act(case, "check_fail", "inspector", note="垃圾仍未清运")
    case = site.act(case, "request_extension", "handler", note="等待车辆", extension_hours=Decimal(4))
    body = site.client("operator").get(f"/cases/{case.code}/").content.decode()
    timeline = body[body.index('<ol class="timeline">') :]
    actions = [part.split('"')[0] for part in timeline.split('<li data-action="')[1:]]
    assert actions == list(case.events.order_by("seq").values_list("action", flat=True))
    assert actions[:3] == ["report", "register", "dispatch"]
    for text in (
        "巡查员甲（巡查员）",
        "值班长丁（值班长）",
        "派遣员戊（派遣员）",
        "环卫己（处置单位）",
        "待立案 → 待派遣",
        "待核查 → 处置中",
        "垃圾仍未清运",
        "截止时间",
        "派至 D01",
        "延期 4 工作时",
    ):
        assert text in timeline, text


def test_details_map_and_photos(site: Site) -> None:
    client = site.client("inspector")
    client.post(
        "/m/report/",
        {
            "category": site.garbage.pk,
            "description": "井边堆放垃圾",
            "lat": "42.27",
            "lon": "118.96",
            "address": "光明路 1 号",
            "photos": [photo()],
        },
    )
    case = Case.objects.get()
    body = site.client("operator").get(f"/cases/{case.code}/").content.decode()
    token = Attachment.objects.get().token
    assert "井边堆放垃圾" in body and "光明路 1 号" in body and "暴露垃圾" in body
    assert 'data-map="points"' in body and '"lat": 42.27' in body
    assert body.count(f"/photos/{token}/") >= 2  # in the photo list and under its timeline step


def test_actions_come_from_the_workflow_for_each_post(site: Site) -> None:
    case = site.report()
    url = f"/cases/{case.code}/"

    def shown(who: str) -> set[str]:
        body = site.client(who).get(url).content.decode()
        section = body[body.index("可执行的操作") : body.index("流转记录")]
        return {part.split('"')[0] for part in section.split('data-action="')[1:]}

    assert shown("shift_leader") == {"register", "reject", "mark_duplicate", "supervise"}
    assert shown("operator") == {"send_verify", "mark_duplicate"}
    assert shown("dispatcher") == set()
    # The workflow offers a leader 督办, but the leader's post reads only (issue 8): no forms.
    assert shown("leader") == set()


def test_stale_form_says_so_and_shows_the_fresh_state(site: Site) -> None:
    case = site.report()
    old_version = case.version
    site.act(case, "register", "shift_leader")  # someone else acted first
    response = site.client("shift_leader").post(
        f"/cases/{case.code}/act/", {"action": "reject", "version": old_version, "note": "重复"}
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "案件已被他人处理" in body
    assert 'data-status="to_dispatch"' in body  # the fresh state
    case.refresh_from_db()
    assert case.status == "to_dispatch"


def test_a_refused_action_is_explained(site: Site) -> None:
    case = site.report()
    response = site.client("inspector").post(f"/cases/{case.code}/act/", {"action": "register", "version": 1})
    assert response.status_code == 403
    assert "“立案”只能由值班长执行" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "reported" and case.events.count() == 1


def test_an_action_not_possible_in_this_state_is_refused(site: Site) -> None:
    case = site.to("to_dispatch")
    response = site.client("shift_leader").post(
        f"/cases/{case.code}/act/", {"action": "close", "version": case.version}
    )
    assert response.status_code == 403 and "不能执行“结案”" in response.content.decode()


def test_unknown_action_and_missing_version(site: Site) -> None:
    case = site.report()
    client = site.client("shift_leader")
    assert client.post(f"/cases/{case.code}/act/", {"action": "explode", "version": 1}).status_code == 400
    assert client.post(f"/cases/{case.code}/act/", {"action": "register"}).status_code == 400
    case.refresh_from_db()
    assert case.status == "reported"


def test_next_must_stay_on_this_site(site: Site) -> None:
    case = site.report()
    response = site.client("shift_leader").post(
        f"/cases/{case.code}/act/", {"action": "register", "version": 1, "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/cases/{case.code}/"


def test_scoped_visibility(site: Site) -> None:
    reported_by_me = site.report()
    elsewhere = site.report(reporter_staff=site.staff["inspector2"], reporter_user=site.users["inspector2"])
    inspector = site.client("inspector")
    assert inspector.get(f"/cases/{reported_by_me.code}/").status_code == 200
    assert inspector.get(f"/cases/{elsewhere.code}/").status_code == 404
    assert site.client("handler").get(f"/cases/{reported_by_me.code}/").status_code == 404
    assert site.client("leader").get(f"/cases/{elsewhere.code}/").status_code == 200
    assert site.client("assessor").get(f"/cases/{elsewhere.code}/").status_code == 403


def test_photos_are_served_to_those_who_may_see_the_case(site: Site) -> None:
    case = site.to("handling")
    site.client("handler").post(
        f"/cases/{case.code}/act/", {"action": "report_back", "version": case.version, "photos": [photo()]}
    )
    token = Attachment.objects.get().token
    url = f"/photos/{token}/"
    response = site.client("handler").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    assert site.client("operator").get(url).status_code == 200
    assert site.client("other_handler").get(url).status_code == 404
    assert site.client("handler").get("/photos/nope/").status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_citizen_contact_only_for_the_command_centre(site: Site) -> None:
    from chengguan.cases.services import CitizenInfo

    case = site.report(
        channel="web", reporter_staff=None, reporter_user=None, citizen=CitizenInfo("张女士", "13900000000")
    )
    case = site.act(case, "register", "shift_leader")
    case = site.act(case, "dispatch", "dispatcher")
    url = f"/cases/{case.code}/"
    # Masked for the command centre until someone who calls citizens back asks; never for a unit.
    masked = site.client("operator").get(url).content.decode()
    assert "13900000000" not in masked and "139****0000" in masked and "张**" in masked
    assert "13900000000" not in site.client("handler").get(url).content.decode()
    assert PersonalDataAccess.objects.count() == 0
    revealed = site.client("operator").get(url + "?reveal=contact").content.decode()
    assert "13900000000" in revealed and "张女士" in revealed
    log = PersonalDataAccess.objects.get()
    assert (log.username, log.case_code, log.fields, log.where) == (
        "operator",
        case.code,
        ["name", "phone"],
        "web:case",
    )


def test_likely_duplicates_are_offered_when_the_module_is_there(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = site.report()
    second = site.report()
    fake = types.ModuleType("chengguan.cases.duplicates")
    fake.likely_duplicates = lambda case: [types.SimpleNamespace(case=first, distance_m=42.4)]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "chengguan.cases.duplicates", fake)
    body = site.client("shift_leader").get(f"/cases/{second.code}/").content.decode()
    assert "疑似重复案件" in body and f"/cases/{first.code}/" in body and "相距约 42 米" in body
    # a dispatcher cannot mark duplicates: no list for them
    assert "疑似重复案件" not in site.client("dispatcher").get(f"/cases/{second.code}/").content.decode()
    # the queue's row panel offers them too, each with a one-click form
    client = site.client("shift_leader")
    panel = client.get(f"/cases/{second.code}/actions/", {"next": "/command/"}).content.decode()
    assert f'data-duplicate="{first.code}"' in panel and f'name="duplicate_of" value="{first.code}"' in panel
    response = client.post(
        f"/cases/{second.code}/act/",
        {
            "action": "mark_duplicate",
            "version": second.version,
            "duplicate_of": first.code,
            "next": "/command/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/command/"
    second.refresh_from_db()
    assert second.status == "duplicate" and second.duplicate_of == first


def test_page_renders_without_the_duplicates_module(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "chengguan.cases.duplicates", None)  # import fails
    case = site.report()
    assert site.client("shift_leader").get(f"/cases/{case.code}/").status_code == 200


def test_a_form_shown_again_with_errors_still_returns_to_where_it_came_from(site: Site) -> None:
    case = site.report()
    client = site.client("shift_leader")
    again = client.post(f"/cases/{case.code}/act/", {"action": "reject", "version": 1, "next": "/command/"})
    assert again.status_code == 400 and 'name="next" value="/command/"' in again.content.decode()
    plain = client.post(f"/cases/{case.code}/act/", {"action": "reject", "version": 1})
    assert f'name="next" value="/cases/{case.code}/"' in plain.content.decode()
    assert f'name="next" value="/cases/{case.code}/act/"' not in plain.content.decode()


def test_inspector_task_forms_return_to_the_inspector_page_after_a_bad_report(site: Site) -> None:
    site.to("checking")
    response = site.client("inspector").post("/m/report/", {"description": ""})
    assert response.status_code == 400
    assert 'name="next" value="/m/"' in response.content.decode()
    assert 'name="next" value="/m/report/"' not in response.content.decode()
