"""Accountability rules evaluated on plain data (no ORM, no HTTP).

The rules themselves are rows (:class:`~chengguan.assessment.models.AccountabilityRule`); this
module says what each kind of trigger means:

* ``finding_tier`` — findings of the given tier in the period → one measure on each unit
  charged, listing them (e.g. zero-tolerance findings → 通报批评);
* ``last_place`` — the unit is last in its ranking this period and the streak of consecutive
  last places (this period included) is within [streak_min, streak_max] (2 → 领导约谈,
  3 → 离岗培训, 4 and more → 组织调整);
* ``double_check`` — 一票双查: findings of the given tier → one measure on each direct party and
  one on each supervising department named, listing them;
* ``score_below`` — the score is below the threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chengguan.assessment.indicators import fmt

UNIT_SUBJECTS = ("territorial", "departmental")


@dataclass(frozen=True)
class RuleSpec:
    code: str
    name: str
    trigger: str
    measure: str
    body: str
    tier: str = ""
    streak_min: int | None = None
    streak_max: int | None = None
    threshold: Decimal | None = None
    subject: str = ""  # "" = both unit tracks

    def applies_to(self, subject: str) -> bool:
        return subject == self.subject if self.subject else subject in UNIT_SUBJECTS


@dataclass(frozen=True)
class FindingFact:
    finding_id: int
    subject: str
    key: str
    name: str
    tier: str
    item: str
    person: str = ""
    supervisor_key: str = ""
    supervisor_name: str = ""


@dataclass(frozen=True)
class ResultFact:
    subject: str
    key: str
    name: str
    score: Decimal
    rank: int
    last: bool  # shares the lowest rank of its ranking


@dataclass(frozen=True)
class Proposal:
    rule: str
    measure: str
    body: str
    subject: str
    key: str
    name: str
    reason: str
    party: str = "direct"
    person: str = ""
    finding_id: int | None = None
    refs: Mapping[str, Any] = field(default_factory=dict)


def streak(current_last: bool, history: Sequence[bool]) -> int:
    """Consecutive last places ending now; ``history`` is earlier periods, most recent first."""
    if not current_last:
        return 0
    count = 1
    for was_last in history:
        if not was_last:
            break
        count += 1
    return count


def _by_party(findings: Iterable[FindingFact]) -> list[list[FindingFact]]:
    """Findings grouped by the unit charged, in order: one measure per unit and rule."""
    groups: dict[str, list[FindingFact]] = {}
    for f in findings:
        groups.setdefault(f.key, []).append(f)
    return list(groups.values())


def _persons(group: Sequence[FindingFact]) -> str:
    return "、".join(dict.fromkeys(f.person for f in group if f.person))


def evaluate(
    rules: Iterable[RuleSpec],
    findings: Iterable[FindingFact],
    results: Iterable[ResultFact],
    history: Mapping[tuple[str, str], Sequence[bool]],
    history_runs: Sequence[int] = (),
) -> list[Proposal]:
    """Every measure the rules propose for one period.

    ``history`` maps (subject, key) to whether it was last in each earlier period, most recent
    first; ``history_runs`` names those earlier runs for the record.
    """
    findings = list(findings)
    results = list(results)
    out: list[Proposal] = []
    for rule in rules:
        if rule.trigger == "finding_tier":
            for group in _by_party(f for f in findings if f.tier == rule.tier and rule.applies_to(f.subject)):
                first = group[0]
                out.append(
                    Proposal(
                        rule.code,
                        rule.measure,
                        rule.body,
                        first.subject,
                        first.key,
                        first.name,
                        f"{rule.name}：" + "；".join(f.item for f in group),
                        person=_persons(group),
                        finding_id=first.finding_id,
                        refs={"findings": [f.finding_id for f in group]},
                    )
                )
        elif rule.trigger == "double_check":
            chosen = [f for f in findings if f.tier == rule.tier and rule.applies_to(f.subject)]
            for group in _by_party(chosen):
                first = group[0]
                out.append(
                    Proposal(
                        rule.code,
                        rule.measure,
                        rule.body,
                        first.subject,
                        first.key,
                        first.name,
                        "一票双查（直接责任）：" + "；".join(f.item for f in group),
                        party="direct",
                        person=_persons(group),
                        finding_id=first.finding_id,
                        refs={"findings": [f.finding_id for f in group]},
                    )
                )
            supervised: dict[str, list[FindingFact]] = {}
            for f in chosen:
                if f.supervisor_key:
                    supervised.setdefault(f.supervisor_key, []).append(f)
            for key, group in supervised.items():
                first = group[0]
                out.append(
                    Proposal(
                        rule.code,
                        rule.measure,
                        rule.body,
                        first.subject,
                        key,
                        first.supervisor_name,
                        "一票双查（监管责任）：" + "；".join(f"{f.name} {f.item}" for f in group),
                        party="supervisor",
                        finding_id=first.finding_id,
                        refs={"findings": [f.finding_id for f in group]},
                    )
                )
        elif rule.trigger == "last_place":
            low = rule.streak_min or 1
            for r in results:
                if not rule.applies_to(r.subject) or not r.last:
                    continue
                n = streak(True, history.get((r.subject, r.key), ()))
                if n < low or (rule.streak_max is not None and n > rule.streak_max):
                    continue
                out.append(
                    Proposal(
                        rule.code,
                        rule.measure,
                        rule.body,
                        r.subject,
                        r.key,
                        r.name,
                        f"{rule.name}：连续 {n} 期排名末位（本期第 {r.rank} 名，{fmt(r.score)} 分）",
                        refs={"streak": n, "runs": list(history_runs[: n - 1])},
                    )
                )
        elif rule.trigger == "score_below":
            if rule.threshold is None:
                continue
            for r in results:
                if rule.applies_to(r.subject) and r.score < rule.threshold:
                    out.append(
                        Proposal(
                            rule.code,
                            rule.measure,
                            rule.body,
                            r.subject,
                            r.key,
                            r.name,
                            f"{rule.name}：得分 {fmt(r.score)} 低于 {fmt(rule.threshold)}",
                            refs={"score": str(r.score)},
                        )
                    )
    return out
