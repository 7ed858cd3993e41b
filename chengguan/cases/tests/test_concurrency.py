"""Two people acting on the same case at once, over real PostgreSQL connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from chengguan.cases import services
from chengguan.cases.models import CaseEvent
from chengguan.cases.tests.conftest import at
from chengguan.cases.workflow import WorkflowError

MON = "2026-11-23"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_of_two_simultaneous_actions_wins_and_the_other_is_told(world) -> None:
    case = world.act(world.report(at(MON, "09:00")), "register", "shift_leader", at(MON, "09:05"))
    version = case.version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def act(action: str, who: str, note: str) -> None:
        try:
            barrier.wait()
            services.transition(
                case.pk,
                services.TransitionInput(
                    action=action, note=note, expected_version=version, at=at(MON, "09:10")
                ),
                world.users[who],
            )
            result = "won"
        except (services.StaleCase, WorkflowError) as exc:
            result = f"told: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [
        threading.Thread(target=act, args=("dispatch", "dispatcher", "")),
        threading.Thread(target=act, args=("request_void", "dispatcher", "误报")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o[:4] for o in outcomes) == ["told", "won"], outcomes
    assert any("已被他人处理" in o for o in outcomes)
    case.refresh_from_db()
    assert case.version == version + 1
    assert CaseEvent.objects.filter(case=case).count() == 3  # report, register, and exactly one more
