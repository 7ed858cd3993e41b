"""Accountability rules evaluated on plain data (no ORM, no HTTP).

The rules themselves are rows (:class:`~chengguan.assessment.models.AccountabilityRule`); this
module says what each kind of trigger means:

* ``finding_tier`` — a finding of the given tier in the period → a measure on the unit charged
  (e.g. any zero-tolerance finding → 通报批评);
* ``last_place`` — the unit is last in its ranking this period and the streak of consecutive
  last places (this period included) is within [streak_min, streak_max] (2 → 领导约谈,
  3 → 离岗培训, 4 and more → 组织调整);
* ``double_check`` — 一票双查: a finding of the given tier → a measure on the direct party and
  one on its supervising department;
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
            for f in findings:
                if f.tier == rule.tier and rule.applies_to(f.subject):
                    out.append(
                        Proposal(
                            rule.code,
                            rule.measure,
                            rule.body,
                            f.subject,
                            f.key,
                            f.name,
                            f"{rule.name}：{f.item}",
                            person=f.person,
                            finding_id=f.finding_id,
                            refs={"findings": [f.finding_id]},
                        )
                    )
        elif rule.trigger == "double_check":
            for f in findings:
                if f.tier != rule.tier or not rule.applies_to(f.subject):
                    continue
                out.append(
                    Proposal(
                        rule.code,
                        rule.measure,
                        rule.body,
                        f.subject,
                        f.key,
                        f.name,
                        f"一票双查（直接责任）：{f.item}",
                        party="direct",
                        person=f.person,
                        finding_id=f.finding_id,
                        refs={"findings": [f.finding_id]},
                    )
                )
                if f.supervisor_key:
                    out.append(
                        Proposal(
                            rule.code,
                            rule.measure,
                            rule.body,
                            f.subject,
                            f.supervisor_key,
                            f.supervisor_name,
                            f"一票双查（监管责任）：{f.name} {f.item}",
                            party="supervisor",
                            finding_id=f.finding_id,
                            refs={"findings": [f.finding_id]},
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
