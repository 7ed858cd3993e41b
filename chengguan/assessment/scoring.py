"""Scores, grades, ranking and run diffs as plain rules (no ORM, no HTTP).

score = base + Σ lines, with no cap either way (评分上不封顶、下不封底); a line may be capped
by its item's own cap only. Ranking is standard competition ranking: equal scores share a
rank and the next rank skips (1, 1, 3).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from chengguan.assessment.indicators import fmt, q2

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Grades:
    """Lower bounds of grades A–D; anything below D is E (GB/T 30428.4: 90/75/60/40)."""

    a: Decimal = Decimal(90)
    b: Decimal = Decimal(75)
    c: Decimal = Decimal(60)
    d: Decimal = Decimal(40)

    def __post_init__(self) -> None:
        if not (self.a >= self.b >= self.c >= self.d):
            raise ValueError("等级下限必须满足 A ≥ B ≥ C ≥ D")


def grade(score: Decimal, grades: Grades = Grades()) -> str:
    if score >= grades.a:
        return "A"
    if score >= grades.b:
        return "B"
    if score >= grades.c:
        return "C"
    if score >= grades.d:
        return "D"
    return "E"


@dataclass(frozen=True)
class Total:
    base: Decimal
    bonus: Decimal  # Σ positive lines
    penalty: Decimal  # Σ |negative lines|, a positive number
    score: Decimal  # base + bonus − penalty


def total(base: Decimal, lines: Iterable[Decimal]) -> Total:
    bonus = Decimal(0)
    penalty = Decimal(0)
    for points in lines:
        if points >= 0:
            bonus += points
        else:
            penalty -= points
    return Total(q2(base), q2(bonus), q2(penalty), q2(base + bonus - penalty))


def rank(scores: Mapping[K, Decimal]) -> dict[K, int]:
    """Competition ranking, highest score first: ties share a rank, the next rank skips."""
    ordered = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    ranks: dict[K, int] = {}
    previous: Decimal | None = None
    current = 0
    for position, (key, score) in enumerate(ordered, start=1):
        if previous is None or score != previous:
            current = position
            previous = score
        ranks[key] = current
    return ranks


def last_places(ranks: Mapping[K, int]) -> set[K]:
    """Everyone sharing the lowest rank (several on a tie). Empty with fewer than two ranked."""
    if len(ranks) < 2:
        return set()
    worst = max(ranks.values())
    if worst == 1:  # everyone tied: nobody is last
        return set()
    return {key for key, r in ranks.items() if r == worst}


@dataclass(frozen=True)
class CappedLine:
    points: Decimal
    raw: Decimal
    capped: bool


def apply_cap(raw_points: Sequence[Decimal], cap: Decimal | None) -> list[CappedLine]:
    """Lines of one item for one unit in one period, in order, limited to ``cap`` in total.

    The cap limits the magnitude of the running sum (扣分封顶 or 加分封顶); lines past it count 0.
    """
    if cap is None:
        return [CappedLine(p, p, False) for p in raw_points]
    limit = abs(cap)
    used = Decimal(0)
    out: list[CappedLine] = []
    for p in raw_points:
        room = limit - used
        counted = p if abs(p) <= room else (room if p > 0 else -room)
        used += abs(counted)
        out.append(CappedLine(counted, p, counted != p))
    return out


def finding_formula(points: Decimal, quantity: Decimal, unit: str, counted: Decimal, capped: bool) -> str:
    each = f"{fmt(points)} 分/{unit or '处'}"
    text = f"{each} × {fmt(quantity)} {unit or '处'} = {fmt(q2(points * quantity))}"
    if capped:
        text += f"（单项封顶，计 {fmt(counted)}）"
    return text


@dataclass(frozen=True)
class ResultSnapshot:
    """What a diff compares of one subject's result."""

    subject: str
    key: str
    name: str
    score: Decimal
    rank: int
    lines: Mapping[str, Decimal] = field(default_factory=dict)  # line key → points


def diff(old: Iterable[ResultSnapshot], new: Iterable[ResultSnapshot]) -> dict[str, Any]:
    """What changed between two versions of a run: per subject, score, rank and lines."""
    before = {(r.subject, r.key): r for r in old}
    after = {(r.subject, r.key): r for r in new}
    changes: list[dict[str, Any]] = []
    unchanged = 0
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a and b and a.score == b.score and a.rank == b.rank and dict(a.lines) == dict(b.lines):
            unchanged += 1
            continue
        old_lines = dict(a.lines) if a else {}
        new_lines = dict(b.lines) if b else {}
        changes.append(
            {
                "subject": key[0],
                "key": key[1],
                "name": (b or a).name,  # type: ignore[union-attr]
                "old_score": str(a.score) if a else None,
                "new_score": str(b.score) if b else None,
                "delta": str(q2((b.score if b else Decimal(0)) - (a.score if a else Decimal(0)))),
                "old_rank": a.rank if a else None,
                "new_rank": b.rank if b else None,
                "added": sorted(k for k in new_lines if k not in old_lines),
                "removed": sorted(k for k in old_lines if k not in new_lines),
                "changed": sorted(k for k in new_lines if k in old_lines and new_lines[k] != old_lines[k]),
            }
        )
    return {"changes": changes, "unchanged": unchanged}
