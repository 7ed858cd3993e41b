"""The command-centre queue: filters, lights, map, row actions, bulk dispatch."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from chengguan.cases.models import CaseEvent
from chengguan.web.tests.conftest import Site

pytestmark = pytest.mark.django_db


def codes(body: str) -> set[str]:
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    return {part.split('"')[0] for part in table.split('data-code="')[1:]}


def test_queue_lists_open_cases_with_lights_and_a_map(site: Site) -> None:
    open_case = site.report()
    closed = site.to("closed")
    response = site.client("operator").get("/command/")
    body = response.content.decode()
    assert response.status_code == 200
    assert codes(body) == {open_case.code}
    assert closed.code not in codes(body)
    assert 'class="light light-' in body and 'data-map="points"' in body
    points = json.loads(
        body.split('<script id="queue-points" type="application/json">')[1].split("</script>")[0]
    )
    assert points[0]["code"] == open_case.code and points[0]["light"] in {"green", "yellow", "red"}


def test_queue_query_count_does_not_grow_with_rows(site: Site, django_assert_max_num_queries: Any) -> None:
    client = site.client("dispatcher")
    for n in range(24):
        site.to(["reported", "to_dispatch", "handling", "checking"][n % 4])
    client.get("/command/")  # warm the per-process calendar and locator caches
    # session, user, staff + unit (shared by the access policy and the page), territories,
    # calendar revision, rows, the page's categories, territories and lead units (fetched per
    # page since the queue reads the open-case index alone), map centre, category filter options
    with django_assert_max_num_queries(11):
        response = client.get("/command/")
    assert len(codes(response.content.decode())) == 24
    with django_assert_max_num_queries(12):  # + the distinct limits behind the yellow bound
        client.get("/command/", {"light": "yellow"})


def test_filters(site: Site) -> None:
    garbage = site.report()
    manhole = site.report(category=site.manhole, address="长青街 3 号")
    hotline = site.report(channel="hotline", reporter_staff=None, reporter_user=None, territory=None)
    dispatched = site.to("dispatched")
    closed = site.to("closed")
    client = site.client("operator")

    def listed(**params: Any) -> set[str]:
        return codes(client.get("/command/", params).content.decode())

    assert listed() == {garbage.code, manhole.code, hotline.code, dispatched.code}
    assert listed(status="all") >= {closed.code, garbage.code}
    assert listed(status="dispatched") == {dispatched.code}
    assert listed(category=site.manhole.pk) == {manhole.code}
    assert listed(channel="hotline") == {hotline.code}
    assert listed(territory=site.town.pk) == {garbage.code, manhole.code, dispatched.code}
    assert listed(q="长青街") == {manhole.code}
    assert listed(q=garbage.code) == {garbage.code}
    # the filter bar shows what is selected
    body = client.get(
        "/command/", {"category": site.manhole.pk, "status": "all", "q": "长青"}
    ).content.decode()
    assert f'<option value="{site.manhole.pk}" selected>' in body
    assert '<option value="all" selected>' in body and 'value="长青"' in body
    # a bad filter value is ignored rather than crashing
    assert client.get("/command/", {"status": "nonsense", "light": "purple"}).status_code == 200


def test_light_filter(site: Site) -> None:
    fresh = site.report()
    old = site.report(at=timezone.now() - dt.timedelta(days=20))
    closed = site.to("closed")
    client = site.client("operator")
    red = codes(client.get("/command/", {"light": "red"}).content.decode())
    assert old.code in red and fresh.code not in red
    not_clocked = codes(client.get("/command/", {"light": "none", "status": "all"}).content.decode())
    assert closed.code in not_clocked and old.code not in not_clocked


def test_htmx_filter_returns_only_the_queue(site: Site) -> None:
    site.report()
    response = site.client("operator").get("/command/", {"status": "reported"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<div id="queue">') and "<html" not in body


def test_second_page_links_back(site: Site) -> None:
    site.report()
    body = site.client("operator").get("/command/", {"page": 2}).content.decode()
    assert "第 2 页" in body and "上一页" in body and "没有符合条件的案件" in body


def test_rows_offer_checkboxes_only_where_dispatch_is_possible(site: Site) -> None:
    reported = site.report()
    registered = site.to("to_dispatch")
    dispatcher = site.client("dispatcher").get("/command/").content.decode()
    assert f'value="{registered.pk}:{registered.version}"' in dispatcher
    assert f'value="{reported.pk}:' not in dispatcher
    # the operator cannot dispatch: no checkbox for them
    operator = site.client("operator").get("/command/").content.decode()
    assert f'value="{registered.pk}:' not in operator


def test_bulk_dispatch_by_the_routing_matrix(site: Site) -> None:
    first = site.to("to_dispatch")
    second = site.to("to_dispatch", category=site.manhole)
    stale = site.to("to_dispatch")
    picks = [
        f"{first.pk}:{first.version}",
        f"{second.pk}:{second.version}",
        f"{stale.pk}:{stale.version - 1}",
    ]
    client = site.client("dispatcher")
    response = client.post("/command/dispatch/", {"pick": picks, "next": "/command/?status=to_dispatch"})
    assert response.status_code == 302 and response["Location"] == "/command/?status=to_dispatch"
    first.refresh_from_db()
    second.refresh_from_db()
    stale.refresh_from_db()
    assert (first.status, first.lead_unit) == ("dispatched", site.sanitation)
    assert (second.status, second.lead_unit) == ("dispatched", site.municipal)
    assert stale.status == "to_dispatch"
    body = client.get("/command/").content.decode()
    assert "已派遣 2 件" in body and f"未派遣 {stale.code}" in body and "已被他人处理" in body


def test_bulk_dispatch_refuses_what_the_workflow_refuses(site: Site) -> None:
    reported = site.report()
    registered = site.to("to_dispatch")
    client = site.client("operator")  # an operator may not dispatch: the access policy says so
    refused = client.post("/command/dispatch/", {"pick": [f"{registered.pk}:{registered.version}"]})
    assert refused.status_code == 403
    registered.refresh_from_db()
    assert registered.status == "to_dispatch"
    dispatcher = site.client("dispatcher")
    dispatcher.post("/command/dispatch/", {"pick": [f"{reported.pk}:{reported.version}"]})
    reported.refresh_from_db()
    assert reported.status == "reported"


def test_bulk_dispatch_without_picks(site: Site) -> None:
    client = site.client("dispatcher")
    response = client.post("/command/dispatch/", {"pick": ["junk"]})
    assert response.status_code == 302
    assert "请先勾选要派遣的案件" in client.get("/command/").content.decode()


def test_handlers_and_inspectors_cannot_bulk_dispatch(site: Site) -> None:
    case = site.to("to_dispatch")
    for who in ("handler", "inspector"):
        response = site.client(who).post("/command/dispatch/", {"pick": [f"{case.pk}:{case.version}"]})
        assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "to_dispatch"


def test_row_actions_panel_for_a_reported_case(site: Site) -> None:
    case = site.report()
    body = (
        site.client("shift_leader")
        .get(f"/cases/{case.code}/actions/", {"next": "/command/"})
        .content.decode()
    )
    assert 'data-action="register"' in body and 'data-action="reject"' in body
    assert 'data-action="mark_duplicate"' in body
    assert 'name="next" value="/command/"' in body


def test_register_from_the_queue(site: Site) -> None:
    case = site.report()
    client = site.client("shift_leader")
    response = client.post(
        f"/cases/{case.code}/act/", {"action": "register", "version": case.version, "next": "/command/"}
    )
    assert response.status_code == 302 and response["Location"] == "/command/"
    case.refresh_from_db()
    assert case.status == "to_dispatch"


def test_reject_needs_a_reason(site: Site) -> None:
    case = site.report()
    client = site.client("shift_leader")
    response = client.post(f"/cases/{case.code}/act/", {"action": "reject", "version": case.version})
    assert response.status_code == 400
    assert "请填写说明（原因或意见）" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "reported" and case.events.count() == 1
    client.post(
        f"/cases/{case.code}/act/", {"action": "reject", "version": case.version, "note": "不属于城管范围"}
    )
    case.refresh_from_db()
    assert case.status == "rejected"


def test_mark_duplicate_by_code(site: Site) -> None:
    original = site.report()
    copy = site.report()
    client = site.client("operator")
    response = client.post(
        f"/cases/{copy.code}/act/",
        {"action": "mark_duplicate", "version": copy.version, "duplicate_of": "nope"},
    )
    assert response.status_code == 400 and "找不到编号为“nope”的案件" in response.content.decode()
    response = client.post(
        f"/cases/{copy.code}/act/",
        {"action": "mark_duplicate", "version": copy.version, "duplicate_of": copy.code},
    )
    assert response.status_code == 400 and "不能标记为与自身重复" in response.content.decode()
    client.post(
        f"/cases/{copy.code}/act/",
        {"action": "mark_duplicate", "version": copy.version, "duplicate_of": original.code},
    )
    copy.refresh_from_db()
    assert copy.status == "duplicate" and copy.duplicate_of == original
    assert CaseEvent.objects.get(case=copy, action="mark_duplicate").data["duplicate_of"] == original.code


def test_dispatch_by_hand_to_another_unit(site: Site) -> None:
    case = site.to("to_dispatch")
    client = site.client("dispatcher")
    page = client.get(f"/cases/{case.code}/").content.decode()
    assert "按责任矩阵自动派遣" in page and site.municipal.name in page
    client.post(
        f"/cases/{case.code}/act/",
        {"action": "dispatch", "version": case.version, "lead_unit": site.municipal.pk},
    )
    case.refresh_from_db()
    assert case.lead_unit == site.municipal and case.routing_note == "派遣员手动指定"


def test_send_for_check_needs_an_inspector(site: Site) -> None:
    case = site.to("handled")
    client = site.client("operator")
    response = client.post(f"/cases/{case.code}/act/", {"action": "send_check", "version": case.version})
    assert response.status_code == 400 and "请选择负责到场的巡查员" in response.content.decode()
    # someone who is not an inspector cannot be picked
    response = client.post(
        f"/cases/{case.code}/act/",
        {"action": "send_check", "version": case.version, "inspector": site.staff["handler"].pk},
    )
    assert response.status_code == 400
    client.post(
        f"/cases/{case.code}/act/",
        {"action": "send_check", "version": case.version, "inspector": site.staff["inspector2"].pk},
    )
    case.refresh_from_db()
    assert case.status == "checking" and case.assigned_inspector == site.staff["inspector2"]


def test_extension_approval_by_the_command_centre(site: Site) -> None:
    case = site.to("handling")
    case = site.act(case, "request_extension", "handler", note="需采购配件", extension_hours=Decimal(8))
    client = site.client("dispatcher")
    page = client.get(f"/cases/{case.code}/").content.decode()
    assert 'data-action="approve_extension"' in page and 'data-action="deny_extension"' in page
    client.post(f"/cases/{case.code}/act/", {"action": "approve_extension", "version": case.version})
    case.refresh_from_db()
    assert case.status == "handling" and case.extension_count == 1
