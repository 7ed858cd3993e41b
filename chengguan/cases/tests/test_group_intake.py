"""Group commit (cases.intake): reports waiting at the same moment share one transaction, and
each caller still gets exactly its own answer, over real PostgreSQL connections.

To make "at the same moment" certain rather than likely, the first report's companion holds
its leader inside the transaction until the others are waiting; the next leader then takes
all of them at once.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import DataError, connection, transaction

from chengguan.cases import intake, services
from chengguan.cases.models import Case, CaseEvent, CitizenContact, DailyCounter
from chengguan.cases.tests.conftest import World, at

MON = "2026-11-23"


def patrol(world: World, n: int, description: str = "主干道旁成堆垃圾") -> services.ReportInput:
    return services.ReportInput(
        category=world.category,
        description=f"{description} {n}" if description else "",
        channel="patrol",
        address=f"东岭街道光明路 {n} 号",
        reporter_staff=world.staff["inspector"],
        reporter_user=world.users["inspector"],
        territory=world.town,
        at=at(MON, "09:00"),
    )


def note(name: str) -> Callable[[Case], CitizenContact]:
    """A companion row: a contact for a patrol case (which gets none of its own)."""
    return lambda case: CitizenContact(case=case, name=name, follow_token=secrets.token_urlsafe(12))


def wait_for(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the reports never got to wait together")
        time.sleep(0.005)


def run_together(
    group: intake.GroupIntake, first: tuple[Any, Any], rest: list[tuple[Any, Any]]
) -> dict[int, Case | BaseException]:
    """Report ``first`` (its leader held until every one of ``rest`` waits), then ``rest`` from
    their own threads; each caller's answer by position (0 = first)."""
    answers: dict[int, Case | BaseException] = {}
    lock = threading.Lock()
    inside = threading.Event()
    data0, companion0 = first

    def held(case: Case) -> Any:
        inside.set()
        wait_for(lambda: len(group._waiting) == len(rest))
        return companion0(case)

    def caller(position: int, data: Any, companion: Any) -> None:
        try:
            answer: Case | BaseException = group.report(data, companion)
        except BaseException as error:  # the caller's answer is what the test checks
            answer = error
        finally:
            connection.close()
        with lock:
            answers[position] = answer

    threads = [threading.Thread(target=caller, args=(0, data0, held))]
    threads[0].start()
    assert inside.wait(20)
    for position, (data, companion) in enumerate(rest, start=1):
        threads.append(threading.Thread(target=caller, args=(position, data, companion)))
        threads[-1].start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(rest) + 1
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reports_waiting_together_are_written_in_one_batch_each_with_its_own_case(world: World) -> None:
    group = intake.GroupIntake()
    rest = [(patrol(world, n), note(f"随行{n}")) for n in range(1, 12)]
    answers = run_together(group, (patrol(world, 0), note("随行0")), rest)
    assert group.stats.batches == 2 and group.stats.largest == 11 and group.stats.reports == 12

    cases = [answers[p] for p in range(12)]
    assert all(isinstance(c, Case) for c in cases), cases
    codes = sorted(c.code for c in cases)  # type: ignore[union-attr]
    assert codes == [f"2026112300{n:03d}" for n in range(1, 13)]  # gap-free, one each
    for position, case in enumerate(cases):
        assert isinstance(case, Case)
        stored = Case.objects.get(pk=case.pk)
        assert stored.address == f"东岭街道光明路 {position} 号"  # the caller's own report
        assert list(CaseEvent.objects.filter(case=stored).values_list("action", flat=True)) == ["report"]
        assert CitizenContact.objects.get(case=stored).name == f"随行{position}"  # its companion
    assert DailyCounter.objects.get(day=MON).last == 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refused_report_or_row_in_a_batch_fails_alone(world: World) -> None:
    group = intake.GroupIntake()
    rest = [
        (patrol(world, 1), note("随行1")),
        (patrol(world, 2, description=""), note("随行2")),  # refused by the case rules
        (patrol(world, 3), note("名" * 51)),  # refused by the database: name is 50 characters
        (patrol(world, 4), note("随行4")),
    ]
    answers = run_together(group, (patrol(world, 0), note("随行0")), rest)

    assert isinstance(answers[2], services.CaseError) and answers[2].field == "description"
    assert isinstance(answers[3], DataError)
    created = [answers[p] for p in (0, 1, 4)]
    assert all(isinstance(c, Case) for c in created), answers
    # The batch of four was rolled back by the one row and written again report by report.
    assert group.stats.retried_alone == 4
    assert Case.objects.count() == 3 and CaseEvent.objects.count() == 3
    assert CitizenContact.objects.count() == 3
    assert not CitizenContact.objects.filter(name__startswith="名").exists()
    # Nothing was consumed by the refused ones: the day's codes stay gap-free.
    assert sorted(Case.objects.values_list("code", flat=True)) == [
        "2026112300001",
        "2026112300002",
        "2026112300003",
    ]
    assert DailyCounter.objects.get(day=MON).last == 3


@pytest.mark.django_db
def test_a_caller_inside_a_transaction_is_written_alone_with_its_own_work(world: World) -> None:
    group = intake.GroupIntake()
    with pytest.raises(RuntimeError), transaction.atomic():
        case = group.report(patrol(world, 1), note("随行1"))
        assert Case.objects.filter(pk=case.pk).exists()
        raise RuntimeError("the caller's own work fails after the report")
    # Rolled back with the caller's transaction: never grouped with other callers' reports,
    # whose answers would otherwise name cases that no longer exist.
    assert not Case.objects.exists() and not CitizenContact.objects.exists()
    case = group.report(patrol(world, 2), note("随行2"))
    assert Case.objects.get().pk == case.pk and CitizenContact.objects.get(case=case).name == "随行2"
    assert group.stats.batches == 2 and group.stats.largest == 1


@pytest.mark.django_db
def test_a_refused_report_alone_raises_its_case_error(world: World) -> None:
    group = intake.GroupIntake()
    with pytest.raises(services.CaseError) as refused:
        group.report(patrol(world, 1, description=""))
    assert refused.value.field == "description" and str(refused.value) == "请填写问题描述。"
    assert not Case.objects.exists() and not DailyCounter.objects.exists()
