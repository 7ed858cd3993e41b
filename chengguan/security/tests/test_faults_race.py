"""Many threads race workflow transitions on the same few cases on PostgreSQL.

Each thread has its own database connection (Django's connections are per thread) and goes
through ``chengguan.cases.services.transition``, as the pages and the API do. In every round
the threads read the cases, meet at a barrier and fire at once: the versioned actions (what
a page form sends) must produce exactly one winner per case and round, the others get
``StaleCase``; the unversioned 督办 (what the overdue sweep and the API may send) must all go
through one after the other. Afterwards every success has exactly one event, the history
replays to the status the case has, nothing is duplicated and the counts add up.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from chengguan.cases.models import Case, CaseEvent
from chengguan.cases.services import CaseError, StaleCase, TransitionInput, transition
from chengguan.cases.workflow import WorkflowError
from chengguan.web.tests.conftest import Site, build_site

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16
CASES = 4
ROUNDS = 6
SUPERVISIONS_EACH = 5

# Versioned actions a thread may try on a case in a given status: (action, post, extra input).
# Several threads pick different ones for the same case in the same round, as a unit handler,
# a dispatcher and a shift leader would on their pages.
CHOICES: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "to_dispatch": [("dispatch", "dispatcher", {}), ("request_void", "dispatcher", {"note": "重复录入"})],
    "returned": [("dispatch", "dispatcher", {})],
    "dispatched": [("accept", "handler", {}), ("return", "handler", {"note": "不属本单位职责"})],
    "handling": [
        ("request_extension", "handler", {"note": "需要调机械", "extension_hours": Decimal(8)}),
        ("request_deferral", "handler", {"note": "需纳入年度计划"}),
        ("report_back", "handler", {"note": "已清运"}),
    ],
    "extension_requested": [
        ("approve_extension", "dispatcher", {"extension_hours": Decimal(4)}),
        ("deny_extension", "shift_leader", {"note": "时限足够"}),
    ],
    "deferral_requested": [
        ("approve_deferral", "shift_leader", {}),
        ("deny_deferral", "shift_leader", {"note": "先处置"}),
    ],
    "deferred": [("resume", "dispatcher", {})],
    "void_requested": [("deny_void", "shift_leader", {"note": "并非重复"})],
    "handled": [("send_check", "operator", {"inspector": "inspector"})],
    "checking": [("check_pass", "inspector", {}), ("check_fail", "inspector", {"note": "仍有残留"})],
    "to_close": [("close", "shift_leader", {})],
}


@dataclass
class Tally:
    attempted: int = 0
    succeeded: list[tuple[int, str, int]] = field(default_factory=list)  # (case, action, new version)
    stale: int = 0
    refused: list[str] = field(default_factory=list)
    crashed: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fire(self, case_id: int, change: TransitionInput, user: Any) -> None:
        with self.lock:
            self.attempted += 1
        try:
            updated = transition(case_id, change, user)
        except StaleCase:
            with self.lock:
                self.stale += 1
        except (CaseError, WorkflowError) as error:
            assert str(error), "a refusal without a message"
            with self.lock:
                self.refused.append(str(error))
        except BaseException as error:  # reported by the test below, not swallowed
            with self.lock:
                self.crashed.append(error)
        else:
            with self.lock:
                self.succeeded.append((case_id, change.action, updated.version))


def run_threads(target: Any) -> None:
    def body(n: int) -> None:
        try:
            target(n)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=body, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"


def assert_history_replays(case: Case) -> list[CaseEvent]:
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1)), "gap or duplicate in the history"
    status = events[0].to_status
    for event in events[1:]:
        assert event.from_status == status, f"{case.code}: event {event.seq} starts from a lost status"
        status = event.to_status or status
    assert status == case.status
    return events


def test_racing_transitions_lose_nothing_and_record_each_once(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [site.to("to_dispatch", description=f"竞争测试 {n}") for n in range(CASES)]
    before = {c.pk: (c.version, CaseEvent.objects.filter(case=c).count()) for c in cases}
    tally = Tally()
    barrier = threading.Barrier(THREADS)

    def racer(n: int) -> None:
        case_id = cases[n % CASES].pk
        for _round in range(ROUNDS):
            case = Case.objects.get(pk=case_id)
            supervise = n // CASES == 0  # one thread per case sends 督办 without a version
            options = CHOICES.get(case.status, [])
            barrier.wait(timeout=60)  # everybody has read; now all at once
            if supervise:
                tally.fire(
                    case_id,
                    TransitionInput(action="supervise", note="请加快处置"),
                    site.users["shift_leader"],
                )
            elif options:
                action, post, extra = options[n % len(options)]
                extra = dict(extra)
                if extra.get("inspector") == "inspector":
                    extra["inspector"] = site.staff["inspector"]
                change = TransitionInput(action=action, expected_version=case.version, **extra)
                tally.fire(case_id, change, site.users[post])
            barrier.wait(timeout=60)  # the round is over before anyone reads again

    run_threads(racer)
    assert not tally.crashed, tally.crashed
    wins = Counter((case_id, action) for case_id, action, _v in tally.succeeded if action != "supervise")
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        version0, events0 = before[case.pk]
        events = assert_history_replays(case)
        mine = [s for s in tally.succeeded if s[0] == case.pk]
        assert len(events) - events0 == len(mine), "a success without its event, or an event twice"
        assert case.version - version0 == len(mine), "a lost update"
        assert len({v for _c, _a, v in mine}) == len(mine), "two winners for one version"
        versioned = sum(n for (case_id, _a), n in wins.items() if case_id == case.pk)
        assert versioned <= ROUNDS, "more than one versioned winner in a round"
    assert tally.attempted == len(tally.succeeded) + tally.stale + len(tally.refused)
    assert tally.stale > 0  # the race was real: someone lost
    with capsys.disabled():
        print(
            f"\n[faults] racing transitions: {THREADS} threads × {ROUNDS} rounds on {CASES} cases, "
            f"{tally.attempted} attempted, {len(tally.succeeded)} succeeded, {tally.stale} stale, "
            f"{len(tally.refused)} refused, 0 lost, 0 duplicated"
        )


def test_unversioned_supervision_from_many_threads_is_never_lost(
    site: Site, capsys: pytest.CaptureFixture[str]
) -> None:
    case = site.to("handling")
    version0, events0 = case.version, CaseEvent.objects.filter(case=case).count()
    tally = Tally()
    barrier = threading.Barrier(THREADS)

    def racer(n: int) -> None:
        barrier.wait(timeout=60)
        for k in range(SUPERVISIONS_EACH):
            tally.fire(
                case.pk, TransitionInput(action="supervise", note=f"督办 {n}-{k}"), site.users["shift_leader"]
            )

    run_threads(racer)
    assert not tally.crashed and not tally.refused and tally.stale == 0
    total = THREADS * SUPERVISIONS_EACH
    case.refresh_from_db()
    events = assert_history_replays(case)
    assert len(tally.succeeded) == total
    assert case.version == version0 + total and len(events) == events0 + total
    notes = [e.note for e in events if e.action == "supervise"]
    assert sorted(notes) == sorted(f"督办 {n}-{k}" for n in range(THREADS) for k in range(SUPERVISIONS_EACH))
    with capsys.disabled():
        print(
            f"\n[faults] racing supervisions: {total} attempted from {THREADS} threads, "
            f"{total} recorded once each"
        )


@pytest.fixture
def site(transactional_db: None) -> Site:
    return build_site()
