"""Case history is append-only in PostgreSQL itself, whatever client talks to it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from chengguan.cases import services
from chengguan.cases.models import Case, CaseEvent
from chengguan.catalog.models import Category, TimeLimit
from chengguan.org.models import OrgUnit
from chengguan.routing.models import RoutingRule

pytestmark = pytest.mark.postgres


@pytest.fixture
def case(db) -> Case:
    category = Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    for step in ("verify", "register", "dispatch", "handle", "check"):
        TimeLimit.objects.create(category=category, step=step, hours=Decimal(2))
    unit = OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department")
    RoutingRule.objects.create(category=category, lead_unit=unit)
    return services.report(
        services.ReportInput(
            category=category, description="成堆垃圾", channel="patrol", address="光明路 1 号"
        )
    )


def refused(sql: str, params: list[object]) -> str:
    """Run raw SQL through Django's real connection; return the database's refusal."""
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(error.value)


def test_event_update_is_refused_by_the_database(case: Case) -> None:
    event = case.events.get()
    message = refused("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["篡改", event.pk])
    assert "案件流转记录只能追加，不能修改" in message
    assert CaseEvent.objects.get(pk=event.pk).note == event.note


def test_event_delete_is_refused_by_the_database(case: Case) -> None:
    event = case.events.get()
    message = refused("DELETE FROM cases_caseevent WHERE id = %s", [event.pk])
    assert "案件流转记录只能追加，不能删除" in message
    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_bulk_orm_paths_are_refused_too(case: Case) -> None:
    # QuerySet.update/delete skip the model's save()/delete() guards; the triggers do not.
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.filter(case=case).update(note="改")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseEvent.objects.filter(case=case)._raw_delete(CaseEvent.objects.db)


def test_case_delete_is_refused_but_case_update_allowed(case: Case) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_case SET description = %s WHERE id = %s", ["补充描述", case.pk])
    assert Case.objects.get(pk=case.pk).description == "补充描述"
    message = refused("DELETE FROM cases_case WHERE id = %s", [case.pk])
    assert "案件只能追加，不能删除" in message


def test_events_can_still_be_appended(case: Case) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname IN (%s, %s)",
            ["cases_caseevent_append_only", "cases_case_no_delete"],
        )
        assert cursor.fetchone()[0] == 2
    before = case.events.count()
    CaseEvent.objects.create(
        case=case, seq=before + 1, action="note", label="备注", to_status=case.status, at=case.reported_at
    )
    assert case.events.count() == before + 1


@pytest.mark.django_db(transaction=True)
def test_flush_between_tests_still_works(case: Case) -> None:
    # pytest-django empties the database after transactional tests with Django's flush,
    # which on PostgreSQL is TRUNCATE: row triggers for DELETE do not fire on it.
    call_command("flush", interactive=False, verbosity=0)
    assert not Case.objects.exists() and not CaseEvent.objects.exists()
