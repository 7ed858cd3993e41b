"""Writes of the dashboard app: simulated history and the daily summary."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chengguan.calendar.selectors import work_calendar
from chengguan.cases.models import Case, CaseEvent, CitizenContact, DailyCounter
from chengguan.cases.workflow import FINAL, Status
from chengguan.core.progress import Progress
from chengguan.dashboard import simulation as sim
from chengguan.dashboard.bulk import BulkWriter
from chengguan.dashboard.models import SimulationRun

INVALID = ("rejected", "voided", "duplicate")


@dataclass
class Tally:
    """Running figures of a simulation, for the final summary (no second pass over the rows)."""

    cases: int = 0
    events: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    valid: Counter[str] = field(default_factory=Counter)  # by channel group
    closed: Counter[str] = field(default_factory=Counter)
    handled: int = 0
    on_time: int = 0
    reworked: int = 0
    extended: int = 0
    rated: int = 0
    satisfied: int = 0
    overdue_open: int = 0
    modes: Counter[str] = field(default_factory=Counter)

    def add(self, rows: list[tuple[Any, ...]], kinds: dict[int, str], end: dt.datetime) -> None:
        c = {name: i for i, name in enumerate(sim.CASE_COLUMNS)}
        for row in rows:
            self.cases += 1
            channel, status = row[c["channel"]], row[c["status"]]
            group = (
                "complaint"
                if sim.GROUP_OF[channel] == sim.PUBLIC
                else ("patrol" if channel == "patrol" else "other")
            )
            self.channels[channel] += 1
            self.statuses[status] += 1
            self.kinds[kinds[row[c["category_id"]]]] += 1
            if status not in INVALID:
                self.valid[group] += 1
                self.modes[row[c["disposition_mode"]]] += 1
                if status == "closed":
                    self.closed[group] += 1
            if row[c["handled_on_time"]] is not None:
                self.handled += 1
                self.on_time += bool(row[c["handled_on_time"]])
            self.reworked += row[c["rework_count"]] > 0
            self.extended += row[c["extension_count"]] > 0
            if row[c["satisfaction"]] is not None:
                self.rated += 1
                self.satisfied += row[c["satisfaction"]] >= 4
            deadline = row[c["deadline"]]
            if Status(status) not in FINAL and deadline is not None and row[c["paused_at"]] is None:
                self.overdue_open += deadline < end

    def lines(self) -> list[str]:
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:.1f}%" if b else "—"

        public = sum(self.channels[c] for c in ("web", "hotline", "open311", "media"))
        open_cases = sum(n for s, n in self.statuses.items() if Status(s) not in FINAL)
        ratio = self.kinds["matter"] / self.kinds["component"] if self.kinds["component"] else float("inf")
        modes = sum(self.modes.values())
        valid = sum(self.valid.values())
        return [
            f"案件 {self.cases:,} 件，流转记录 {self.events:,} 条",
            "来源："
            + "，".join(
                f"{label} {pct(self.channels[key], self.cases)}" for key, label in CHANNEL_LABELS.items()
            )
            + f"（投诉合计 {pct(public, self.cases)}）",
            f"事项 : 部件 = {ratio:.0f} : 1",
            f"结案率：巡查 {pct(self.closed['patrol'], self.valid['patrol'])}，"
            f"投诉 {pct(self.closed['complaint'], self.valid['complaint'])}，"
            f"其他 {pct(self.closed['other'], self.valid['other'])}",
            f"按期处置率 {pct(self.on_time, self.handled)}，返工率 {pct(self.reworked, valid)}，"
            f"延期率 {pct(self.extended, valid)}，满意率 {pct(self.satisfied, self.rated)}",
            f"在办 {open_cases:,} 件（其中超期 {self.overdue_open:,} 件），"
            f"不予立案/作废/重复 {sum(self.statuses[s] for s in INVALID):,} 件",
            "721："
            + "，".join(f"{label} {pct(self.modes[key], modes)}" for key, label in MODE_LABELS.items()),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "events": self.events,
            "channels": dict(self.channels),
            "statuses": dict(self.statuses),
            "kinds": dict(self.kinds),
            "valid": dict(self.valid),
            "closed": dict(self.closed),
            "handled": self.handled,
            "on_time": self.on_time,
            "overdue_open": self.overdue_open,
        }


CHANNEL_LABELS = {
    "patrol": "巡查",
    "hotline": "热线",
    "web": "网页",
    "open311": "Open311",
    "media": "媒体",
    "camera": "视频",
    "drone": "无人机",
    "leader": "领导交办",
}
MODE_LABELS = {"service": "服务", "management": "管理", "enforcement": "执法"}


@dataclass
class SimulationResult:
    created: bool
    run: SimulationRun
    message: str
    lines: list[str] = field(default_factory=list)


def simulate(
    *,
    cases: int,
    years: float,
    seed: int = 1,
    append: bool = False,
    end: dt.datetime | None = None,
    progress: Progress | None = None,
    chunk: int = 20_000,
    refresh: bool = True,
) -> SimulationResult:
    """Write ``cases`` simulated cases over the last ``years`` years ending at ``end``.

    Idempotent per seed: a second run with a seed already used changes nothing (the run is
    reported); ``append`` writes a further batch with its own random stream instead.
    """
    if cases <= 0:
        raise sim.SimulationError("案件数必须大于 0。")
    if not 0 < years <= 30:
        raise sim.SimulationError("年数应在 0 到 30 之间。")
    progress = progress or Progress()
    previous = list(SimulationRun.objects.filter(seed=seed).order_by("batch"))
    if previous and not append:
        run = previous[-1]
        total = sum(r.cases for r in previous)
        return SimulationResult(
            False,
            run,
            f"种子 {seed} 的模拟数据已存在（{len(previous)} 批，共 {total:,} 件），未做修改。"
            "如需再追加一批，请加 --append。",
            list(run.summary.get("lines", [])),
        )
    batch = previous[-1].batch + 1 if previous else 0
    tz = ZoneInfo(settings.TIME_ZONE)
    end = (end or timezone.now()).replace(second=0, microsecond=0)
    last_day = end.astimezone(tz).date()
    first_day = last_day - dt.timedelta(days=max(1, round(365.25 * years)) - 1)
    started = time.monotonic()
    calendar = work_calendar()
    with progress.stage("读取演示区（目录、单位、人员、派遣规则、网格）"):
        ctx = sim.load_context(calendar, seed)
    if ctx.cells is None:
        progress.step("提示：没有在用的网格，案件不带坐标和网格编码（先运行 chengguan demo 生成网格）")
    with progress.stage(f"生成 {cases:,} 件案件的上报时间、来源和位置"):
        rng = np.random.default_rng(sim.stable_int(seed, batch, "intake"))
        intake = sim.plan_intake(ctx, cases, first_day, end, rng)
    kinds = {c.id: c.kind for c in ctx.categories}
    tally = Tally()
    writer = BulkWriter()
    through = Case.co_handlers.through
    with transaction.atomic():
        run = SimulationRun.objects.create(
            seed=seed,
            batch=batch,
            cases=cases,
            years=years,
            first_day=first_day,
            end_at=end,
            parameters={"cases": cases, "years": years, "seed": seed, "batch": batch, "end": end.isoformat()},
        )
        counters = {
            c.day: c.last
            for c in DailyCounter.objects.select_for_update().filter(day__gte=first_day, day__lte=last_day)
        }
        before = dict(counters)

        def code_for(reported_at: dt.datetime) -> str:
            day = reported_at.astimezone(tz).date()
            counters[day] = counters.get(day, 0) + 1
            return f"{day:%Y%m%d}{counters[day]:05d}"

        def reserve(n: int) -> list[int]:
            return writer.reserve_ids(Case, n)

        for generated in sim.iter_batches(ctx, intake, reserve, code_for, seed, batch, end, chunk):
            writer.insert(Case, sim.CASE_COLUMNS, generated.cases)
            writer.insert(CaseEvent, sim.EVENT_COLUMNS, generated.events)
            writer.insert(through, sim.CO_COLUMNS, generated.co_handlers)
            writer.insert(CitizenContact, sim.CONTACT_COLUMNS, generated.contacts)
            tally.add(generated.cases, kinds, end)
            tally.events += len(generated.events)
            progress.step(f"写入案件 {tally.cases:,} / {cases:,}，流转记录 {tally.events:,}")
        changed = [DailyCounter(day=d, last=n) for d, n in counters.items() if before.get(d) != n]
        DailyCounter.objects.bulk_create(
            changed, batch_size=1000, update_conflicts=True, unique_fields=["day"], update_fields=["last"]
        )
        run.events = tally.events
        run.seconds = round(time.monotonic() - started, 1)
        run.summary = {**tally.as_dict(), "lines": tally.lines()}
        run.save(update_fields=["events", "seconds", "summary"])
    if refresh:
        from chengguan.dashboard.summary import refresh_summary

        with progress.stage("刷新统计日汇总"):
            refresh_summary(first_day, last_day, now=end)
    return SimulationResult(
        True, run, f"已写入种子 {seed} 第 {batch} 批：{cases:,} 件案件（{run.seconds:.0f}s）。", tally.lines()
    )
