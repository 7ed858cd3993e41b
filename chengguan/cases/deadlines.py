"""Step clocks and traffic lights, on any working calendar (no database).

A case's running step has a start, a limit in working hours from the catalogue and extra
hours (approved extensions and time spent deferred, 挂账) added to that limit. The light is
green under 80 % of the limit used, yellow up to 100 %, red past it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from chengguan.cases.workflow import Clock

GREEN_UNTIL = Decimal("0.8")


class Calendar(Protocol):
    def add(self, start: dt.datetime, hours: Decimal, *, round_the_clock: bool = False) -> dt.datetime: ...

    def between_hours(self, a: dt.datetime, b: dt.datetime, *, round_the_clock: bool = False) -> Decimal: ...


@dataclass(frozen=True)
class StepClock:
    step: str = ""
    started_at: dt.datetime | None = None
    limit_hours: Decimal | None = None
    extra_hours: Decimal = Decimal(0)
    paused_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    round_the_clock: bool = False

    @property
    def running(self) -> bool:
        return bool(self.step) and self.started_at is not None and self.limit_hours is not None


def start(
    calendar: Calendar,
    step: str | None,
    at: dt.datetime,
    limit_hours: Decimal | None,
    *,
    round_the_clock: bool,
) -> StepClock:
    if not step or limit_hours is None:
        return StepClock(step=step or "", started_at=at if step else None, round_the_clock=round_the_clock)
    due = calendar.add(at, limit_hours, round_the_clock=round_the_clock)
    return StepClock(step, at, limit_hours, Decimal(0), None, due, round_the_clock)


def _recompute(calendar: Calendar, clock: StepClock) -> StepClock:
    if not clock.running:
        return clock
    assert clock.started_at is not None and clock.limit_hours is not None
    due = calendar.add(
        clock.started_at, clock.limit_hours + clock.extra_hours, round_the_clock=clock.round_the_clock
    )
    return replace(clock, deadline=due)


def apply(
    calendar: Calendar,
    clock: StepClock,
    op: Clock,
    at: dt.datetime,
    *,
    new_step: str | None = None,
    new_limit: Decimal | None = None,
    extra_hours: Decimal = Decimal(0),
) -> StepClock:
    """The clock after a transition whose clock operation is ``op``."""
    if op is Clock.START:
        return start(calendar, new_step, at, new_limit, round_the_clock=clock.round_the_clock)
    if op is Clock.STOP:
        return StepClock(round_the_clock=clock.round_the_clock)
    if op is Clock.KEEP:
        return clock
    if op is Clock.PAUSE:
        return clock if clock.paused_at else replace(clock, paused_at=at)
    if op is Clock.RESUME:
        if clock.paused_at is None:
            return clock
        paused = calendar.between_hours(clock.paused_at, at, round_the_clock=clock.round_the_clock)
        return _recompute(calendar, replace(clock, paused_at=None, extra_hours=clock.extra_hours + paused))
    if op is Clock.EXTEND:
        return _recompute(calendar, replace(clock, extra_hours=clock.extra_hours + extra_hours))
    raise ValueError(op)


def used_fraction(calendar: Calendar, clock: StepClock, now: dt.datetime) -> Decimal | None:
    if not clock.running:
        return None
    assert clock.started_at is not None and clock.limit_hours is not None
    until = clock.paused_at or now
    used = calendar.between_hours(clock.started_at, until, round_the_clock=clock.round_the_clock)
    total = clock.limit_hours + clock.extra_hours
    return used / total if total > 0 else Decimal(1)


def light(calendar: Calendar, clock: StepClock, now: dt.datetime) -> str:
    """``green``, ``yellow``, ``red`` or ``none`` (no clock running)."""
    fraction = used_fraction(calendar, clock, now)
    if fraction is None:
        return "none"
    if clock.deadline is not None and now > clock.deadline and clock.paused_at is None:
        return "red"
    if fraction > 1:
        return "red"
    return "green" if fraction < GREEN_UNTIL else "yellow"
