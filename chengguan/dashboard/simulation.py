"""A simulated case history for the demo district, so dashboards and benchmarks show life.

``chengguan simulate --cases N --years Y --seed S`` writes N cases reported over the last Y
years into whatever district is loaded (the demo district with its grid is meant), each with
an event chain that is a valid path through :mod:`chengguan.cases.workflow`. The history is a
pure function of the seed, the batch and the end moment; :mod:`chengguan.dashboard.bulk`
writes it in bulk. What it models, with the figures it aims at:

* **volume** — seasonality of a northern district (more in summer, least around the Spring
  Festival), working days against weekends and holidays of the Chinese calendar (patrol falls
  on rest days, complaints rise), and 8 % growth a year so 同比 has something to show;
* **channels** — patrol about 60 %, public complaints (hotline, web, Open311, media) about
  22 %, cameras, drones and leaders the rest; each channel with its hours of the day;
* **categories** — events (事项) outnumber components (部件) about 30 : 1; a few common events
  (garbage, street vending, parking, small ads) dominate, with seasons (outdoor barbecue in
  summer, snow and ice in winter, leaf burning in autumn) and channel preferences (noise and
  cooking fumes by phone, illegal building by drone);
* **places** — points sampled inside the active grid's unit cells with hot spots, so grid
  codes and territories are real; the unit is chosen by the routing matrix;
* **workflow** — verification of public reports, rejection, duplicates, self-handling,
  returns, extensions, deferral, reworks, automatic supervision at each missed deadline (as
  the worker does), closure and citizen ratings; deadlines come from the catalogue and the
  working calendar through the same clock code the services use;
* **units** — each unit has its own speed, rework, extension, return and stall rates, so some
  units are visibly slower; closure ends near 98 % for patrol and 93 % for complaints.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from django.conf import settings

from chengguan.cases import deadlines
from chengguan.cases.deadlines import StepClock
from chengguan.cases.models import PUBLIC_CHANNELS
from chengguan.cases.workflow import BY_ACTION, FINAL, STEP_OF_STATUS, Clock, Status
from chengguan.catalog.limits import LimitRow, choose_limit

SIM_MARK = "simulation"

# -- volume -----------------------------------------------------------------------------------

SEASON = (0.74, 0.70, 0.90, 1.05, 1.15, 1.20, 1.25, 1.20, 1.10, 1.00, 0.86, 0.76)  # Jan … Dec
GROWTH_PER_YEAR = 0.08
REST_DAY_FACTOR = 0.62  # all channels together, on weekends and holidays

PATROL, PUBLIC, MACHINE, LEADER = "patrol", "public", "machine", "leader"
# (channel, group, weight on working days, weight on rest days)
CHANNELS: tuple[tuple[str, str, float, float], ...] = (
    ("patrol", PATROL, 63.0, 44.0),
    ("hotline", PUBLIC, 11.0, 17.0),
    ("web", PUBLIC, 6.0, 9.0),
    ("open311", PUBLIC, 2.4, 3.6),
    ("media", PUBLIC, 0.6, 0.6),
    ("camera", MACHINE, 12.0, 19.0),
    ("drone", MACHINE, 1.7, 0.6),
    ("leader", LEADER, 1.6, 0.4),
)
GROUP_OF = {name: group for name, group, _w, _r in CHANNELS}

# Share of each hour of the day (local time) per channel group.
_PATROL_HOURS = [0, 0, 0, 0, 0, 0, 1, 3, 9, 11, 11, 9, 3, 3, 9, 11, 10, 8, 3, 2, 1, 0.5, 0, 0]
_PUBLIC_HOURS = [0.5, 0.3, 0.2, 0.2, 0.2, 0.4, 1, 3, 6, 8, 8, 7, 5, 5, 6, 7, 7, 6, 6, 7, 8, 7, 4, 2]
_MACHINE_HOURS = [2, 2, 1.5, 1.5, 1.5, 2, 3, 5, 6, 6, 6, 6, 5, 5, 6, 6, 6, 6, 6, 6, 5, 4, 3, 2.5]
_LEADER_HOURS = [0, 0, 0, 0, 0, 0, 0, 1, 6, 10, 10, 6, 1, 1, 6, 10, 9, 6, 1, 0, 0, 0, 0, 0]
HOURS_OF_GROUP = {
    PATROL: _PATROL_HOURS,
    PUBLIC: _PUBLIC_HOURS,
    MACHINE: _MACHINE_HOURS,
    LEADER: _LEADER_HOURS,
}

# -- categories -------------------------------------------------------------------------------

COMPONENT_SHARE = 1 / 31  # events outnumber components about 30 : 1
FACILITY_MATTER_SHARE = 0.16  # matters of majors 01–05 (设施异常) among all matters
# Common events and facility faults: weight multipliers by keyword (first match wins).
COMMON: tuple[tuple[str, float], ...] = (
    ("暴露垃圾", 60),
    ("占道经营", 45),
    ("机动车乱停放", 40),
    ("非法小广告", 38),
    ("乱堆杂物", 34),
    ("店外经营", 30),
    ("非机动车乱停放", 26),
    ("共享单车乱象", 22),
    ("无照经营游商", 22),
    ("道路不洁", 20),
    ("垃圾站（箱）满溢", 18),
    ("积存垃圾渣土", 16),
    ("沿街晾挂", 12),
    ("街头散发广告", 12),
    ("施工占道", 10),
    ("违规户外广告", 10),
    ("工地扬尘", 10),
    ("道路破损", 9),
    ("噪声扰民", 9),
    ("油烟污染", 8),
    ("露天烧烤", 8),
    ("私搭乱建", 8),
    ("道路积雪、结冰", 8),
    ("焚烧垃圾、树叶", 5),
    ("施工扰民", 5),
    ("占用消防通道", 4),
    ("绿地脏乱", 6),
    ("道路遗撒", 6),
    ("井盖", 6),
    ("路灯", 8),
    ("垃圾箱", 6),
    ("交通护栏", 4),
    ("行道树", 4),
    ("交通标志", 3),
)
# Months (1–12) with their factor for seasonal categories.
SEASONAL: tuple[tuple[str, dict[int, float]], ...] = (
    (
        "露天烧烤",
        {
            1: 0.05,
            2: 0.05,
            3: 0.2,
            4: 0.8,
            5: 2.2,
            6: 3.2,
            7: 3.6,
            8: 3.2,
            9: 2.0,
            10: 0.6,
            11: 0.1,
            12: 0.05,
        },
    ),
    (
        "道路积雪、结冰",
        {1: 4.0, 2: 3.2, 3: 1.2, 4: 0.1, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0.2, 11: 2.5, 12: 4.0},
    ),
    (
        "焚烧垃圾、树叶",
        {1: 0.5, 2: 0.5, 3: 1.2, 4: 1.0, 5: 0.6, 6: 0.4, 7: 0.4, 8: 0.5, 9: 1.2, 10: 3.0, 11: 2.6, 12: 0.8},
    ),
    (
        "工地扬尘",
        {1: 0.2, 2: 0.2, 3: 1.0, 4: 1.6, 5: 1.6, 6: 1.4, 7: 1.2, 8: 1.2, 9: 1.4, 10: 1.3, 11: 0.5, 12: 0.2},
    ),
    (
        "占道经营",
        {1: 0.6, 2: 0.6, 3: 0.8, 4: 1.0, 5: 1.3, 6: 1.5, 7: 1.6, 8: 1.5, 9: 1.2, 10: 1.0, 11: 0.7, 12: 0.6},
    ),
    (
        "油烟污染",
        {1: 0.8, 2: 0.8, 3: 0.9, 4: 1.0, 5: 1.2, 6: 1.4, 7: 1.5, 8: 1.4, 9: 1.1, 10: 0.9, 11: 0.8, 12: 0.8},
    ),
)
# What each channel group reports more (or less) of than patrol does.
PREFERENCES: dict[str, tuple[tuple[str, float], ...]] = {
    PUBLIC: (
        ("噪声扰民", 9),
        ("施工扰民", 9),
        ("油烟污染", 7),
        ("露天烧烤", 3),
        ("占用消防通道", 4),
        ("私搭乱建", 3),
        ("机动车乱停放", 2),
        ("非法小广告", 0.3),
        ("街头散发广告", 0.3),
    ),
    MACHINE: (
        ("占道经营", 3),
        ("店外经营", 3),
        ("机动车乱停放", 3),
        ("暴露垃圾", 2),
        ("垃圾站（箱）满溢", 3),
        ("私搭乱建", 12),
        ("无证建设", 12),
        ("工地扬尘", 6),
        ("非正规垃圾填埋场", 12),
        ("非法小广告", 0.2),
    ),
    LEADER: (("私搭乱建", 5), ("道路破损", 3), ("暴露垃圾", 2)),
    PATROL: (),
}

ROADS = (
    "人民路",
    "解放路",
    "新华路",
    "建设路",
    "和平路",
    "团结路",
    "光明街",
    "胜利街",
    "文化路",
    "昭乌达路",
    "哈达街",
    "钢铁街",
    "长青路",
    "玉龙大街",
    "临潢大街",
    "全宁路",
    "松山路",
    "桥北路",
    "南湖路",
    "锦河路",
    "西苑路",
    "东岭路",
    "站前街",
    "育才路",
    "富民路",
    "幸福路",
)
REPORT_PHRASES = {
    PATROL: ("巡查发现{what}", "网格巡查：{what}", "{what}，现场拍照上报"),
    PUBLIC: ("市民反映{what}，请尽快处理", "来电反映：{what}", "群众投诉{what}，影响出行和生活"),
    MACHINE: ("视频智能识别：疑似{what}", "监控巡查发现{what}"),
    LEADER: ("领导交办：{what}，限期整改",),
}
MACHINE_ACTOR = {"camera": "视频智能识别", "drone": "无人机巡查"}

# -- flow probabilities ------------------------------------------------------------------------

SELF_HANDLE = 0.14  # patrol reports fixed on the spot (小广告, 杂物 …) and reviewed
SELF_HANDLE_MAJORS = frozenset({"06", "07", "09"})
REJECT = {PATROL: 0.010, PUBLIC: 0.0, MACHINE: 0.10, LEADER: 0.0}  # 不予立案 at registration
DENY = 0.07  # public report found untrue on site
DUPLICATE = {PATROL: 0.012, PUBLIC: 0.06, MACHINE: 0.03, LEADER: 0.0}
VOID = 0.003
# 挂账: problems that cannot be solved soon; complaints far more often than patrol findings.
DEFER = {PATROL: 0.03, PUBLIC: 0.12, MACHINE: 0.03, LEADER: 0.01}
NEVER_RESUMED = 0.55  # deferred cases still waiting at the end of the simulation
STALL_FACTOR = {PATROL: 2.0, PUBLIC: 4.5, MACHINE: 2.0, LEADER: 0.5}
STUCK = 0.3  # of the cases left lying, those never handled at all
RATE_PUBLIC = 0.65  # closed public cases the citizen rates
URGENT = 0.03
MAX_REWORKS = 2

NOTES = {
    "reject": ("不属于城市管理范围", "照片与问题不符，不予立案", "已有专项整治计划，不予立案"),
    "deny": ("现场核实不属实", "到场未发现所反映问题", "问题已自行消失"),
    "refuse_self_handling": ("处置照片不清晰，需立案派遣",),
    "request_void": ("误报，申请作废",),
    "return": ("非本单位职责，请重新派遣", "权属不清，申请回退"),
    "request_extension": ("需协调施工单位，申请延期", "材料采购中，申请延期", "天气原因无法施工，申请延期"),
    "deny_extension": ("延期理由不充分",),
    "request_deferral": ("需列入年度改造计划，申请挂账", "涉及产权纠纷，申请挂账"),
    "check_fail": ("现场仍有残留，返工", "处置不彻底，返工"),
    "supervise": ("领导督办：请限期办结",),
}
AUTO_SUPERVISE_NOTE = "超期自动督办"


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts, identical on every machine and Python version."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


# -- context: the district as plain data -------------------------------------------------------


@dataclass
class CategoryInfo:
    id: int
    kind: str
    major_code: str
    name: str
    disposition_mode: str
    round_the_clock: bool
    limits: list[LimitRow]


@dataclass
class UnitInfo:
    id: int
    code: str
    name: str
    kind: str
    territory_id: int | None


@dataclass
class UnitProfile:
    """How a unit works in the simulation; derived from the seed and the unit's code."""

    speed: float  # handling time relative to the district's usual
    rework: float
    extension: float
    ret: float  # 回退 (wrongly dispatched to it)
    stall: float  # cases left lying far past their deadline
    mood: float  # shifts citizens' ratings (−1 worse … +1 better)
    mix: tuple[float, float, float]  # service, management, enforcement


@dataclass
class StaffInfo:
    id: int
    code: str
    name: str
    role: str


@dataclass
class Cells:
    """The active grid's unit cells, as arrays."""

    codes: list[str]
    area: list[str]
    responsibility: list[str]
    management: list[str]
    territory: list[int | None]
    geometry: Any  # numpy array of shapely polygons
    bounds: Any  # (n, 4) array
    label: Any  # (n, 2) array lon, lat
    area_class: list[str]
    weight: Any  # numpy float array, sums to 1

    def __len__(self) -> int:
        return len(self.codes)


@dataclass
class Context:
    calendar: Any
    categories: list[CategoryInfo]
    units: dict[int, UnitInfo]
    territories: list[UnitInfo]
    brigade_of: dict[int, int]  # territory id -> brigade id
    patrol_staff: dict[int, list[StaffInfo]]  # territory id -> inspectors and assistants
    command: dict[str, list[StaffInfo]]  # role -> staff (operator, shift_leader, dispatcher, leader)
    handlers: dict[int, list[StaffInfo]]  # unit id -> handler staff
    routes: Any  # chengguan.routing.routing.RuleIndex
    rule_places: dict[int, str]
    cells: Cells | None
    limit_cache: dict[tuple[int, str, str, str], Decimal | None] = field(default_factory=dict)
    route_cache: dict[tuple[int, int | None], tuple[int, tuple[int, ...], str] | None] = field(
        default_factory=dict
    )

    def limit(
        self, category: CategoryInfo, step: str | None, area_class: str, work_kind: str
    ) -> Decimal | None:
        """The same limit the services would set (catalogue row, else the fallback)."""
        if not step:
            return None
        key = (category.id, step, area_class, work_kind)
        if key not in self.limit_cache:
            from chengguan.cases.services import FALLBACK_LIMITS

            row = choose_limit(category.limits, step, area_class, work_kind)
            self.limit_cache[key] = row.hours if row is not None else FALLBACK_LIMITS[step]
        return self.limit_cache[key]

    def route(self, category_id: int, territory_id: int | None) -> tuple[int, tuple[int, ...], str] | None:
        key = (category_id, territory_id)
        if key not in self.route_cache:
            from chengguan.routing.routing import Place

            found = self.routes.route(category_id, Place(territory_id=territory_id, grid_codes=()))
            if found is None:
                self.route_cache[key] = None
            else:
                note = f"{found.reason}：{self.rule_places.get(found.rule.id, '')}"[:200]
                self.route_cache[key] = (found.lead_unit_id, tuple(found.co_handler_ids), note)
        return self.route_cache[key]


def load_context(calendar: Any, seed: int) -> Context:
    """Read the district (catalogue, units, staff, routing, grid) once, as plain data."""
    from django.db.models import Prefetch

    from chengguan.catalog.models import Category, TimeLimit
    from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit, Staff, UnitKind
    from chengguan.routing.models import RoutingRule
    from chengguan.routing.services import load_index

    categories = [
        CategoryInfo(
            c.pk,
            c.kind,
            c.major_code,
            c.name,
            c.disposition_mode,
            c.round_the_clock,
            [LimitRow(t.step, t.area_class, t.work_kind, t.hours) for t in c.time_limits.all()],
        )
        for c in Category.objects.filter(active=True)
        .order_by("kind", "code")
        .prefetch_related(Prefetch("time_limits", queryset=TimeLimit.objects.all()))
    ]
    if not categories:
        raise SimulationError("目录中没有在用的类别。请先运行 chengguan demo。")
    units = {
        u.pk: UnitInfo(u.pk, u.code, u.short_name or u.name, u.kind, u.territory_id)
        for u in OrgUnit.objects.filter(active=True).order_by("code")
    }
    territories = [u for u in units.values() if u.kind in TERRITORIAL_KINDS]
    if not territories:
        raise SimulationError("没有镇街单位。请先运行 chengguan demo。")
    brigade_of = {
        u.territory_id: u.id
        for u in units.values()
        if u.kind == UnitKind.BRIGADE and u.territory_id is not None
    }
    patrol_staff: dict[int, list[StaffInfo]] = {}
    command: dict[str, list[StaffInfo]] = {}
    handlers: dict[int, list[StaffInfo]] = {}
    for s in Staff.objects.filter(active=True).select_related("unit").order_by("code"):
        info = StaffInfo(s.pk, s.code, s.name, s.role)
        if s.role in {"inspector", "assistant", "bicycle_assistant"}:
            territory = s.unit.territory_id if s.unit.kind == UnitKind.BRIGADE else s.unit_id
            if territory is not None:
                patrol_staff.setdefault(territory, []).append(info)
        elif s.role in {"operator", "shift_leader", "dispatcher", "leader"}:
            command.setdefault(s.role, []).append(info)
        elif s.role == "handler":
            handlers.setdefault(s.unit_id, []).append(info)
    rule_places = {r.pk: r.place_label for r in RoutingRule.objects.select_related("territory")}
    return Context(
        calendar=FastCalendar(calendar),
        categories=categories,
        units=units,
        territories=territories,
        brigade_of=brigade_of,
        patrol_staff=patrol_staff,
        command=command,
        handlers=handlers,
        routes=load_index(),
        rule_places=rule_places,
        cells=_load_cells(seed, {t.id: t for t in territories}),
    )


def _load_cells(seed: int, territories: dict[int, UnitInfo]) -> Cells | None:
    from chengguan.grid.geometry import from_wkb_many
    from chengguan.grid.models import GridCell
    from chengguan.grid.selectors import active_layer

    layer = active_layer()
    if layer is None:
        return None
    parents = {
        pk: (code, parent)
        for pk, code, parent in GridCell.objects.filter(layer=layer, level__lt=4).values_list(
            "pk", "code", "parent_id"
        )
    }
    rows = list(
        GridCell.objects.filter(layer=layer, level=4)
        .order_by("code")
        .values_list("code", "parent_id", "territory_id", "geometry", "label_lon", "label_lat")
    )
    if not rows:
        return None

    def chain(parent: int | None) -> list[str]:
        codes: list[str] = []
        while parent is not None and parent in parents:
            code, parent = parents[parent]
            codes.append(code)
        return codes

    codes: list[str] = []
    area: list[str] = []
    resp: list[str] = []
    mgmt: list[str] = []
    territory: list[int | None] = []
    area_class: list[str] = []
    for code, parent, territory_id, _geometry, _lon, _lat in rows:
        ancestors = [*chain(parent), "", "", ""]
        codes.append(code)
        area.append(ancestors[0])
        resp.append(ancestors[1])
        mgmt.append(ancestors[2])
        territory.append(territory_id)
        unit = territories.get(territory_id) if territory_id is not None else None
        if unit is not None and unit.kind == "town":
            area_class.append("C")
        else:
            area_class.append("A" if stable_int(seed, "core", resp[-1]) % 5 == 0 else "B")
    geometry = from_wkb_many(r[3] for r in rows)
    bounds = shapely.bounds(geometry)
    label = np.array([(r[4], r[5]) for r in rows], dtype=float)
    weight = _cell_weights(seed, label, area_class, territory, territories)
    return Cells(codes, area, resp, mgmt, territory, geometry, bounds, label, area_class, weight)


def _cell_weights(
    seed: int,
    label: Any,
    area_class: list[str],
    territory: list[int | None],
    territories: dict[int, UnitInfo],
) -> Any:
    """Heavy-tailed weights with a few hot spots (markets, stations, old quarters)."""
    rng = np.random.default_rng(stable_int(seed, "cells"))
    n = len(area_class)
    weight = rng.lognormal(0.0, 1.0, n)
    weight *= np.array([{"A": 1.6, "B": 1.0, "C": 0.18}[c] for c in area_class])
    centres = label[rng.choice(n, size=min(18, n), replace=False)]
    lat0 = float(np.mean(label[:, 1])) if n else 42.0
    kx = 111_320.0 * math.cos(math.radians(lat0))
    for lon, lat in centres:
        radius = rng.uniform(250.0, 900.0)
        strength = rng.uniform(4.0, 14.0)
        d2 = ((label[:, 0] - lon) * kx) ** 2 + ((label[:, 1] - lat) * 110_540.0) ** 2
        weight *= 1.0 + strength * np.exp(-d2 / (2 * radius * radius))
    return weight / weight.sum()


def profile_of(seed: int, unit: UnitInfo) -> UnitProfile:
    """A unit's working habits; a few units are clearly slower and rework more."""
    r = random.Random(stable_int(seed, "unit", unit.code))
    slow = r.random() < 0.18
    speed = min(1.9, max(0.55, math.exp(r.gauss(0.0, 0.22)) * (1.45 if slow else 1.0)))
    rework = min(0.16, max(0.01, r.gauss(0.045, 0.02) * (1.8 if slow else 1.0)))
    extension = min(0.09, max(0.005, r.gauss(0.03, 0.012) * (1.5 if slow else 1.0)))
    ret = min(0.05, max(0.003, r.gauss(0.015, 0.008)))
    stall = min(0.02, max(0.0005, r.gauss(0.003, 0.0015) * (2.5 if slow else 1.0)))
    mood = max(-1.0, min(1.0, r.gauss(0.0, 0.4) - (0.5 if slow else 0.0)))
    if unit.kind == "brigade":
        base = (0.62, 0.23, 0.15)
    elif unit.kind in {"subdistrict", "town"}:
        base = (0.7, 0.26, 0.04)
    elif unit.kind == "utility":
        base = (0.92, 0.07, 0.01)
    else:
        base = (0.8, 0.16, 0.04)
    jitter = [max(0.01, b * math.exp(r.gauss(0.0, 0.12))) for b in base]
    whole = sum(jitter)
    mix = (jitter[0] / whole, jitter[1] / whole, jitter[2] / whole)
    return UnitProfile(speed, rework, extension, ret, stall, mood, mix)


class FastCalendar:
    """The working calendar with limits converted to timedeltas once (many calls, few limits)."""

    def __init__(self, calendar: Any) -> None:
        self.calendar = calendar
        self._deltas: dict[Any, dt.timedelta] = {}

    def add(self, start: dt.datetime, hours: Any, *, round_the_clock: bool = False) -> dt.datetime:
        if not isinstance(hours, dt.timedelta):
            delta = self._deltas.get(hours)
            if delta is None:
                from chengguan.calendar.worktime import to_timedelta

                delta = self._deltas[hours] = to_timedelta(hours)
            hours = delta
        return self.calendar.add(start, hours, round_the_clock=round_the_clock)

    def between_hours(self, a: dt.datetime, b: dt.datetime, *, round_the_clock: bool = False) -> Decimal:
        return self.calendar.between_hours(a, b, round_the_clock=round_the_clock)

    def is_working_day(self, day: dt.date) -> bool:
        return self.calendar.is_working_day(day)


class SimulationError(Exception):
    """The district is not ready for a simulation; the message says what to do."""


# -- the intake: when, where, which channel ---------------------------------------------------


@dataclass
class Intake:
    """Every case of a batch before its flow: arrays in report order."""

    epoch: Any  # int64 seconds, UTC
    channel: Any  # int index into CHANNELS
    cell: Any  # int index into Cells (or -1)
    lon: Any
    lat: Any


def _local_midnight_epoch(day: dt.date, tz: ZoneInfo) -> int:
    return int(dt.datetime.combine(day, dt.time(), tzinfo=tz).timestamp())


def plan_intake(ctx: Context, cases: int, first_day: dt.date, end: dt.datetime, rng: Any) -> Intake:
    tz = ZoneInfo(settings.TIME_ZONE)
    last_day = end.astimezone(tz).date()
    days = [first_day + dt.timedelta(days=k) for k in range((last_day - first_day).days + 1)]
    working = np.array([ctx.calendar.is_working_day(d) for d in days])
    midnight = np.array([_local_midnight_epoch(d, tz) for d in days], dtype=np.int64)
    end_epoch = int(end.timestamp())
    span_years = max(1.0, len(days)) / 365.25
    weight = np.array(
        [
            SEASON[d.month - 1]
            * (1 + GROWTH_PER_YEAR) ** (k / 365.25 - span_years)
            * (1.0 if working[k] else REST_DAY_FACTOR)
            for k, d in enumerate(days)
        ]
    )
    # The last day only counts up to the end moment.
    weight[-1] *= min(1.0, max(0.02, (end_epoch - midnight[-1]) / 86400))
    counts = rng.multinomial(cases, weight / weight.sum())
    day_index = np.repeat(np.arange(len(days)), counts)
    is_working = working[day_index]
    channel = np.empty(cases, dtype=np.int64)
    for flag, column in ((True, 2), (False, 3)):
        mask = is_working == flag
        p = np.array([c[column] for c in CHANNELS], dtype=float)
        channel[mask] = rng.choice(len(CHANNELS), size=int(mask.sum()), p=p / p.sum())
    hour = np.empty(cases, dtype=np.int64)
    for group, shares in HOURS_OF_GROUP.items():
        mask = np.array([CHANNELS[i][1] == group for i in range(len(CHANNELS))])[channel]
        p = np.array(shares, dtype=float)
        hour[mask] = rng.choice(24, size=int(mask.sum()), p=p / p.sum())
    epoch = midnight[day_index] + hour * 3600 + rng.integers(0, 3600, size=cases)
    late = epoch > end_epoch
    if late.any():
        # Reports drawn after the end moment on its day fall somewhere earlier that day.
        start = midnight[day_index[late]]
        epoch[late] = start + (rng.random(int(late.sum())) * max(1, end_epoch - start[0])).astype(np.int64)
    order = np.argsort(epoch, kind="stable")
    epoch, channel = epoch[order], channel[order]
    cell, lon, lat = _points(ctx.cells, cases, rng)
    return Intake(epoch, channel, cell, lon, lat)


def _points(cells: Cells | None, n: int, rng: Any) -> tuple[Any, Any, Any]:
    if cells is None or not len(cells):
        empty = np.full(n, np.nan)
        return np.full(n, -1, dtype=np.int64), empty, empty.copy()
    index = rng.choice(len(cells), size=n, p=cells.weight)
    lon = np.empty(n)
    lat = np.empty(n)
    todo = np.arange(n)
    for _attempt in range(6):
        b = cells.bounds[index[todo]]
        x = b[:, 0] + rng.random(len(todo)) * (b[:, 2] - b[:, 0])
        y = b[:, 1] + rng.random(len(todo)) * (b[:, 3] - b[:, 1])
        inside = shapely.contains_xy(cells.geometry[index[todo]], x, y)
        lon[todo[inside]] = x[inside]
        lat[todo[inside]] = y[inside]
        todo = todo[~inside]
        if not len(todo):
            break
    # Thin slivers: the cell's own label point lies inside it by construction.
    lon[todo] = cells.label[index[todo], 0]
    lat[todo] = cells.label[index[todo], 1]
    return index, np.round(lon, 6), np.round(lat, 6)


# -- the category picker -----------------------------------------------------------------------


class CategoryPicker:
    """Cumulative weights per (channel group, month), drawn with one bisect."""

    def __init__(self, categories: Sequence[CategoryInfo], seed: int) -> None:
        self.categories = list(categories)
        base = self._base(seed)
        self.tables: dict[tuple[str, int], list[float]] = {}
        for group in (PATROL, PUBLIC, MACHINE, LEADER):
            for month in range(1, 13):
                weights = [
                    b * _season_factor(c.name, month) * _preference(group, c.name)
                    for b, c in zip(base, self.categories, strict=True)
                ]
                cumulative, running = [], 0.0
                for w in weights:
                    running += w
                    cumulative.append(running)
                self.tables[(group, month)] = cumulative

    def _base(self, seed: int) -> list[float]:
        r = random.Random(stable_int(seed, "categories"))
        components = [c for c in self.categories if c.kind == "component"]
        facility = [c for c in self.categories if c.kind == "matter" and c.major_code <= "05"]
        events = [c for c in self.categories if c.kind == "matter" and c.major_code > "05"]
        share = {
            "component": COMPONENT_SHARE,
            "facility": (1 - COMPONENT_SHARE) * FACILITY_MATTER_SHARE,
            "event": (1 - COMPONENT_SHARE) * (1 - FACILITY_MATTER_SHARE),
        }
        weight: dict[int, float] = {}
        for name, group in (("component", components), ("facility", facility), ("event", events)):
            if not group:
                continue
            raw = {c.id: _common(c.name) * r.lognormvariate(0.0, 0.6) for c in group}
            whole = sum(raw.values())
            for key, value in raw.items():
                weight[key] = share[name] * value / whole
        return [weight.get(c.id, 0.0) for c in self.categories]

    def pick(self, group: str, month: int, u: float) -> CategoryInfo:
        table = self.tables[(group, month)]
        index = bisect.bisect_right(table, u * table[-1])
        return self.categories[min(index, len(table) - 1)]


def _common(name: str) -> float:
    for word, factor in COMMON:
        if word in name:
            return factor
    return 1.0


def _season_factor(name: str, month: int) -> float:
    for word, factors in SEASONAL:
        if word in name:
            return factors[month]
    return 1.0


def _preference(group: str, name: str) -> float:
    for word, factor in PREFERENCES[group]:
        if word in name:
            return factor
    return 1.0


# -- one case's life ---------------------------------------------------------------------------

CASE_COLUMNS = (
    "id", "code", "channel", "category_id", "description", "address", "lat", "lon", "territory_id",
    "unit_grid", "area_grid", "responsibility_grid", "management_grid", "area_class", "work_kind",
    "reporter_staff_id", "urgency", "quantity_unit", "tags", "disposition_mode", "lead_unit_id",
    "routing_note", "assigned_inspector_id", "duplicate_of_id", "status", "step", "step_started_at",
    "step_limit_hours", "step_extra_hours", "paused_at", "deadline", "handle_deadline",
    "round_the_clock", "supervision_level", "rework_count", "return_count", "extension_count",
    "overdue_flagged", "satisfaction", "reported_at", "registered_at", "dispatched_at", "handled_at",
    "closed_at", "handled_on_time", "version", "updated_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "case_id", "seq", "action", "label", "actor_name", "actor_role", "from_status", "to_status", "at",
    "note", "deadline_before", "deadline_after", "data",
)  # fmt: skip
CO_COLUMNS = ("case_id", "orgunit_id")
CONTACT_COLUMNS = ("case_id", "name", "phone", "email", "follow_token")


class Stop(Exception):
    """The next step would happen after the end of the simulation: the case stays as it is."""


@dataclass
class Track:
    """Applies workflow actions to one case as the services would, and records the events."""

    ctx: Context
    category: CategoryInfo
    area_class: str
    work_kind: str
    round_the_clock: bool
    end: dt.datetime
    rng: random.Random
    case_id: int = 0
    status: str = ""
    clock: StepClock = field(default_factory=StepClock)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    flagged: bool = False
    supervision: int = 0
    reworks: int = 0
    returns: int = 0
    extensions: int = 0
    handle_deadline: dt.datetime | None = None
    handled_on_time: bool | None = None
    registered_at: dt.datetime | None = None
    dispatched_at: dt.datetime | None = None
    handled_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    satisfaction: int | None = None
    inspector_id: int | None = None
    last_at: dt.datetime | None = None

    def _event(
        self,
        action: str,
        label: str,
        at: dt.datetime,
        actor: tuple[str, str],
        from_status: str,
        to_status: str,
        before: dt.datetime | None,
        note: str,
        data: dict[str, Any],
    ) -> None:
        self.events.append(
            (
                self.case_id,
                len(self.events) + 1,
                action,
                label,
                actor[0],
                actor[1],
                from_status,
                to_status,
                at,
                note,
                before,
                self.clock.deadline,
                json.dumps(data, ensure_ascii=False) if data else "{}",
            )
        )
        self.last_at = at

    def begin(
        self,
        action: str,
        label: str,
        status: Status,
        at: dt.datetime,
        actor: tuple[str, str],
        data: dict[str, Any],
    ) -> None:
        step = STEP_OF_STATUS[status]
        limit = self.ctx.limit(self.category, step, self.area_class, self.work_kind)
        self.clock = deadlines.start(self.ctx.calendar, step, at, limit, round_the_clock=self.round_the_clock)
        self.status = status
        self._event(action, label, at, actor, "", status, None, "", data)

    def _supervise_until(self, moment: dt.datetime) -> None:
        """The worker's sweep: one automatic supervision per step clock that runs past its deadline."""
        clock = self.clock
        if (
            self.flagged
            or clock.deadline is None
            or clock.paused_at is not None
            or STEP_OF_STATUS[Status(self.status)] is None
            or clock.deadline >= moment
        ):
            return
        # The sweep runs every minute: just after the deadline, or just after the step that
        # left an already missed deadline running again (a resumed deferral).
        at = max(clock.deadline, self.last_at or clock.deadline) + dt.timedelta(
            seconds=self.rng.randint(5, 59)
        )
        if at > moment or at > self.end:
            return
        self.flagged = True
        self.supervision += 1
        self._event(
            "supervise",
            BY_ACTION["supervise"].label,
            at,
            ("系统", "system"),
            self.status,
            self.status,
            clock.deadline,
            AUTO_SUPERVISE_NOTE,
            {"auto": True, "step": clock.step, "level": self.supervision},
        )

    def do(
        self,
        action: str,
        at: dt.datetime,
        actor: tuple[str, str],
        note: str = "",
        data: dict[str, Any] | None = None,
        extra_hours: Decimal = Decimal(0),
    ) -> None:
        """Take ``action`` at ``at``; raises :class:`Stop` when ``at`` is after the end."""
        if self.last_at is not None and at < self.last_at:
            at = self.last_at
        self._supervise_until(at)
        if at > self.end:
            raise Stop
        transition = BY_ACTION[action]
        status = Status(self.status)
        if status not in transition.sources:
            raise AssertionError(f"simulation bug: {action} from {status}")
        target = transition.target or status
        new_step = STEP_OF_STATUS[target]
        before = self.clock.deadline
        if action == "report_back":
            self.handled_on_time = before is None or at <= before
            self.handled_at = at
        elif action == "register":
            self.registered_at = at
        elif action == "dispatch":
            self.dispatched_at = at
        elif action in {"close", "approve_self_handling"}:
            self.closed_at = at
        elif action == "check_fail":
            self.reworks += 1
        elif action == "return":
            self.returns += 1
        elif action == "approve_extension":
            self.extensions += 1
        elif action == "supervise":
            self.supervision += 1
            data = {**(data or {}), "level": self.supervision}
        self.clock = deadlines.apply(
            self.ctx.calendar,
            self.clock,
            transition.clock,
            at,
            new_step=new_step,
            new_limit=self.ctx.limit(self.category, new_step, self.area_class, self.work_kind),
            extra_hours=extra_hours,
        )
        if self.clock.step == "handle":
            self.handle_deadline = self.clock.deadline
        if transition.clock in (Clock.START, Clock.RESUME, Clock.EXTEND):
            self.flagged = False
        self._event(action, transition.label, at, actor, status, target, before, note, data or {})
        self.status = target

    def finish(self) -> None:
        if Status(self.status) not in FINAL:
            self._supervise_until(self.end)

    # working-time arithmetic
    def after(self, at: dt.datetime, hours: float) -> dt.datetime:
        return self.ctx.calendar.add(at, dt.timedelta(hours=hours), round_the_clock=self.round_the_clock)


@dataclass
class Generated:
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    co_handlers: list[tuple[int, int]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)


class CaseFactory:
    """Turns the intake of a batch into rows, case by case, in report order."""

    def __init__(self, ctx: Context, seed: int, batch: int, end: dt.datetime) -> None:
        self.ctx = ctx
        self.seed = seed
        self.batch = batch
        self.end = end
        self.rng = random.Random(stable_int(seed, batch, "flow"))
        self.picker = CategoryPicker(ctx.categories, seed)
        self.profiles = {uid: profile_of(seed, unit) for uid, unit in ctx.units.items()}
        self.default_profile = UnitProfile(1.0, 0.04, 0.03, 0.01, 0.003, 0.0, (0.7, 0.2, 0.1))
        self.recent: dict[tuple[int, int | None], tuple[int, str]] = {}
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.territory_weights = [3.0 if t.kind == "subdistrict" else 1.0 for t in ctx.territories]

    # people
    def _staff(self, role: str, fallback: str) -> tuple[str, str]:
        people = self.ctx.command.get(role)
        if not people:
            return (fallback, role)
        return (self.rng.choice(people).name, role)

    def _inspector(self, territory_id: int | None) -> StaffInfo | None:
        people = self.ctx.patrol_staff.get(territory_id or 0)
        return self.rng.choice(people) if people else None

    def _handler(self, unit_id: int) -> tuple[str, str]:
        people = self.ctx.handlers.get(unit_id)
        if people:
            return (self.rng.choice(people).name, "handler")
        unit = self.ctx.units.get(unit_id)
        return (unit.name if unit else "处置单位", "handler")

    def make(
        self,
        case_id: int,
        code: str,
        reported_at: dt.datetime,
        channel: str,
        cell: int,
        lon: float,
        lat: float,
        out: Generated,
    ) -> None:
        r = self.rng
        ctx = self.ctx
        group = GROUP_OF[channel]
        local = reported_at.astimezone(self.tz)
        category = self.picker.pick(group, local.month, r.random())
        cells = ctx.cells
        if cells is not None and cell >= 0:
            territory_id = cells.territory[cell]
            grids = (cells.codes[cell], cells.area[cell], cells.responsibility[cell], cells.management[cell])
            area_class = cells.area_class[cell]
            point: tuple[float | None, float | None] = (float(lat), float(lon))
        else:
            territory = r.choices(ctx.territories, weights=self.territory_weights)[0]
            territory_id, grids, point = territory.id, ("", "", "", ""), (None, None)
            area_class = "C" if territory.kind == "town" else "B"
        facility = category.kind == "component" or category.major_code <= "05"
        roll = r.random()
        if facility:
            work_kind = "engineering" if roll < 0.22 else ("special" if roll < 0.27 else "ordinary")
        else:
            work_kind = "special" if roll < 0.03 else "ordinary"
        urgent = r.random() < URGENT
        track = Track(
            ctx,
            category,
            area_class,
            work_kind,
            category.round_the_clock or urgent,
            self.end,
            r,
            case_id=case_id,
        )
        territory_unit = ctx.units.get(territory_id) if territory_id else None
        reporter: StaffInfo | None = None
        if channel == "patrol":
            reporter = self._inspector(territory_id)
        elif channel == "leader":
            leaders = ctx.command.get("leader")
            reporter = r.choice(leaders) if leaders else None
        what = category.name
        road = ROADS[r.randrange(len(ROADS))]
        address = f"{territory_unit.name if territory_unit else ''}{road}{r.randint(1, 399)}号附近"
        description = r.choice(REPORT_PHRASES[group]).format(what=what) + f"（{road}）"
        route = ctx.route(category.id, territory_id)
        lead_id: int | None = None
        co_ids: tuple[int, ...] = ()
        routing_note = ""
        inspector: StaffInfo | None = None
        duplicate_of: int | None = None
        contact = channel in {c.value for c in PUBLIC_CHANNELS}

        if reporter is not None:
            report_actor = (reporter.name, reporter.role)
        elif group == MACHINE:
            report_actor = (MACHINE_ACTOR.get(channel, "系统"), "system")
        else:
            report_actor = ("", "citizen")
        data = {"channel": channel, SIM_MARK: f"{self.seed}/{self.batch}"}
        self_handle = (
            channel == "patrol"
            and category.major_code in SELF_HANDLE_MAJORS
            and r.random() < SELF_HANDLE * 1.8
        )
        profile = self.default_profile
        try:
            if self_handle:
                track.begin(
                    "self_handle", "上报并自行处置", Status.SELF_HANDLED, reported_at, report_actor, data
                )
                at = track.after(reported_at, r.uniform(0.1, 1.5))
                if r.random() < 0.97:
                    track.do("approve_self_handling", at, self._staff("shift_leader", "值班长"))
                    raise Stop
                track.do(
                    "refuse_self_handling",
                    at,
                    self._staff("shift_leader", "值班长"),
                    r.choice(NOTES["refuse_self_handling"]),
                )
            else:
                track.begin("report", "上报", Status.REPORTED, reported_at, report_actor, data)
            at = track.last_at or reported_at
            if group == PUBLIC and not self_handle:
                inspector = self._inspector(territory_id)
                at = track.after(at, r.uniform(0.05, 0.4))
                track.do(
                    "send_verify",
                    at,
                    self._staff("operator", "受理员"),
                    data={"inspector": inspector.code if inspector else ""},
                )
                track.inspector_id = inspector.id if inspector else None
                at = track.after(at, r.uniform(0.2, 1.2) if r.random() < 0.9 else r.uniform(0.5, 4.0))
                actor = (inspector.name, inspector.role) if inspector else ("巡查员", "inspector")
                roll = r.random()
                previous = self.recent.get((category.id, territory_id))
                if roll < DENY:
                    track.do("deny", at, actor, r.choice(NOTES["deny"]))
                    raise Stop
                if roll < DENY + DUPLICATE[group] and previous is not None:
                    duplicate_of = previous[0]
                    track.do(
                        "mark_duplicate",
                        at,
                        self._staff("operator", "受理员"),
                        data={"duplicate_of": previous[1]},
                    )
                    raise Stop
                track.do("confirm", at, actor)
            else:
                previous = self.recent.get((category.id, territory_id))
                roll = r.random()
                if roll < DUPLICATE[group] and previous is not None:
                    at = track.after(at, r.uniform(0.05, 0.5))
                    duplicate_of = previous[0]
                    track.do(
                        "mark_duplicate",
                        at,
                        self._staff("shift_leader", "值班长"),
                        data={"duplicate_of": previous[1]},
                    )
                    raise Stop
                if roll < DUPLICATE[group] + REJECT[group]:
                    at = track.after(at, r.uniform(0.05, 0.5))
                    track.do("reject", at, self._staff("shift_leader", "值班长"), r.choice(NOTES["reject"]))
                    raise Stop
            self.recent[(category.id, territory_id)] = (case_id, code)
            at = track.after(at, r.uniform(0.03, 0.45) if r.random() < 0.93 else r.uniform(0.4, 2.0))
            track.do("register", at, self._staff("shift_leader", "值班长"))
            if r.random() < VOID:
                at = track.after(at, r.uniform(0.1, 0.6))
                track.do(
                    "request_void", at, self._staff("dispatcher", "派遣员"), r.choice(NOTES["request_void"])
                )
                at = track.after(at, r.uniform(0.1, 1.0))
                track.do("approve_void", at, self._staff("shift_leader", "值班长"))
                raise Stop
            if route is not None:
                lead_id, co_ids, routing_note = route
            else:
                lead_id = ctx.brigade_of.get(territory_id or 0) or territory_id
                routing_note = "派遣员手动指定"
            if lead_id is None:
                raise Stop
            profile = self.profiles.get(lead_id, self.default_profile)
            at = track.after(at, r.uniform(0.03, 0.45) if r.random() < 0.95 else r.uniform(0.4, 2.0))
            track.do(
                "dispatch",
                at,
                self._staff("dispatcher", "派遣员"),
                data=self._dispatch_data(lead_id, co_ids, routing_note),
            )
            if r.random() < profile.ret:
                at = track.after(at, r.uniform(0.2, 2.5))
                track.do(
                    "return",
                    at,
                    self._handler(lead_id),
                    r.choice(NOTES["return"]),
                    {"lead_unit": self._code(lead_id)},
                )
                alternative = ctx.brigade_of.get(territory_id or 0)
                if alternative is None or alternative == lead_id:
                    alternative = territory_id or lead_id
                lead_id, co_ids, routing_note = alternative, (), "派遣员手动指定"
                profile = self.profiles.get(lead_id, self.default_profile)
                at = track.after(at, r.uniform(0.05, 0.8))
                track.do(
                    "dispatch",
                    at,
                    self._staff("dispatcher", "派遣员"),
                    data=self._dispatch_data(lead_id, co_ids, routing_note),
                )
            handle_limit = float(track.clock.limit_hours or Decimal(16))
            at = track.after(
                at, handle_limit * (r.uniform(0.02, 0.12) if r.random() < 0.9 else r.uniform(0.1, 0.3))
            )
            handler = self._handler(lead_id)
            track.do("accept", at, handler)
            stall = profile.stall * STALL_FACTOR[group]
            self._handle(track, profile, group, handler, at, stall, territory_id, lead_id)
        except Stop:
            pass
        track.finish()
        self._rows(
            out, track, case_id, code, channel, category, description, address, point, territory_id, grids,
            area_class, work_kind, reporter, urgent, lead_id, co_ids, routing_note, inspector, duplicate_of,
            profile, reported_at,
        )  # fmt: skip
        if contact:
            out.contacts.append(
                (
                    case_id,
                    "",
                    f"1{r.randint(30, 99)}****{r.randint(0, 9999):04d}",
                    "",
                    f"s{stable_int(self.seed, self.batch, case_id):016x}",
                )
            )

    def _code(self, unit_id: int | None) -> str:
        unit = self.ctx.units.get(unit_id or 0)
        return unit.code if unit else ""

    def _dispatch_data(self, lead: int, co: tuple[int, ...], note: str) -> dict[str, Any]:
        return {"lead_unit": self._code(lead), "co_handlers": [self._code(c) for c in co], "routing": note}

    def _handle(
        self,
        track: Track,
        profile: UnitProfile,
        group: str,
        handler: tuple[str, str],
        at: dt.datetime,
        stall: float,
        territory_id: int | None,
        lead_id: int,
    ) -> None:
        """From 接收 to 结案: handling rounds with extensions, deferral, stalls and reworks."""
        r = self.rng
        limit = float(track.clock.limit_hours or Decimal(16))
        late = r.random() < stall
        if late:
            # Left lying: overdue, supervised automatically and then on a leader's word through
            # the shift leader (leaders themselves change nothing); most are
            # handled weeks late, some are still open at the end.
            deadline = track.clock.deadline
            if deadline is not None and r.random() < 0.6:
                track.do(
                    "supervise",
                    track.after(deadline, r.uniform(8, 40)),
                    self._staff("shift_leader", "值班长"),
                    NOTES["supervise"][0],
                )
            if r.random() < STUCK:
                raise Stop
        if r.random() < DEFER[group]:
            at = track.after(at, r.uniform(0.2, 0.6) * limit)
            track.do("request_deferral", at, handler, r.choice(NOTES["request_deferral"]))
            at = track.after(at, r.uniform(0.3, 3.0))
            if r.random() < 0.85:
                track.do("approve_deferral", at, self._staff("shift_leader", "值班长"))
                if r.random() < NEVER_RESUMED:
                    raise Stop
                at = track.after(at, r.uniform(40, 480))
                track.do("resume", at, self._staff("dispatcher", "派遣员"))
            else:
                track.do("deny_deferral", at, self._staff("shift_leader", "值班长"), "暂不具备挂账条件")
        rounds = 0
        while True:
            start = at
            # Handling takes about 40 % of the limit, longer in slow units; some run over.
            duration = limit * profile.speed * math.exp(r.gauss(math.log(0.4), 0.45))
            if late and not rounds:
                duration = limit + r.uniform(8, 400)
            elif rounds:
                duration *= 0.5
            elif r.random() < profile.extension:
                ask = track.after(start, min(duration, limit) * r.uniform(0.3, 0.8))
                hours = Decimal(str(round(limit * r.choice((0.5, 1.0, 1.0, 2.0)), 1)))
                track.do(
                    "request_extension",
                    ask,
                    handler,
                    r.choice(NOTES["request_extension"]),
                    {"hours": str(hours)},
                )
                decided = track.after(ask, r.uniform(0.1, 1.5))
                if r.random() < 0.85:
                    track.do(
                        "approve_extension",
                        decided,
                        self._staff("dispatcher", "派遣员"),
                        data={"hours": str(hours)},
                        extra_hours=hours,
                    )
                    duration = max(duration, limit * r.uniform(0.9, 1.0 + float(hours) / limit * 0.95))
                else:
                    track.do(
                        "deny_extension",
                        decided,
                        self._staff("dispatcher", "派遣员"),
                        r.choice(NOTES["deny_extension"]),
                    )
            done = track.after(start, duration)
            track.do("report_back", done, handler)
            inspector = self._inspector(territory_id)
            at = track.after(done, r.uniform(0.05, 0.5))
            track.do(
                "send_check",
                at,
                self._staff("operator", "受理员"),
                data={"inspector": inspector.code if inspector else ""},
            )
            track.inspector_id = inspector.id if inspector else None
            at = track.after(at, r.uniform(0.2, 1.6) if r.random() < 0.9 else r.uniform(1.0, 5.0))
            checker = (inspector.name, inspector.role) if inspector else ("巡查员", "inspector")
            if rounds < MAX_REWORKS and r.random() < profile.rework:
                track.do("check_fail", at, checker, r.choice(NOTES["check_fail"]))
                rounds += 1
                continue
            track.do("check_pass", at, checker)
            break
        at = track.after(at, r.uniform(0.03, 0.4))
        track.do("close", at, self._staff("shift_leader", "值班长"))
        if group == PUBLIC and r.random() < RATE_PUBLIC:
            at = at + dt.timedelta(hours=r.uniform(0.2, 72.0))
            satisfaction = _rating(r, profile.mood, track.handled_on_time, track.reworks)
            track.satisfaction = satisfaction
            track.do("rate", at, ("举报人", "citizen"), data={"satisfaction": satisfaction})

    def _rows(
        self,
        out: Generated,
        track: Track,
        case_id: int,
        code: str,
        channel: str,
        category: CategoryInfo,
        description: str,
        address: str,
        point: tuple[float | None, float | None],
        territory_id: int | None,
        grids: tuple[str, str, str, str],
        area_class: str,
        work_kind: str,
        reporter: StaffInfo | None,
        urgent: bool,
        lead_id: int | None,
        co_ids: tuple[int, ...],
        routing_note: str,
        inspector: StaffInfo | None,
        duplicate_of: int | None,
        profile: UnitProfile,
        reported_at: dt.datetime,
    ) -> None:
        r = self.rng
        dispatched = track.dispatched_at is not None
        if category.disposition_mode == "enforcement" and r.random() < 0.7:
            mode = "enforcement"
        elif dispatched:
            u = r.random()
            mode = (
                "service"
                if u < profile.mix[0]
                else ("management" if u < profile.mix[0] + profile.mix[1] else "enforcement")
            )
        else:
            # Fixed on the spot or refused before dispatch: mostly a service.
            mode = "service" if r.random() < 0.78 else "management"
        clock = track.clock
        out.cases.append(
            (
                case_id,
                code,
                channel,
                category.id,
                description,
                address,
                point[0],
                point[1],
                territory_id,
                grids[0],
                grids[1],
                grids[2],
                grids[3],
                area_class,
                work_kind,
                reporter.id if reporter is not None else None,
                "urgent" if urgent else "normal",
                "",
                "[]",
                mode,
                lead_id if dispatched else None,
                routing_note if dispatched else "",
                track.inspector_id,
                duplicate_of,
                track.status,
                clock.step,
                clock.started_at,
                clock.limit_hours,
                clock.extra_hours,
                clock.paused_at,
                clock.deadline,
                track.handle_deadline,
                track.round_the_clock,
                track.supervision,
                track.reworks,
                track.returns,
                track.extensions,
                track.flagged,
                track.satisfaction,
                reported_at,
                track.registered_at,
                track.dispatched_at,
                track.handled_at,
                track.closed_at,
                track.handled_on_time,
                len(track.events),
                track.last_at or reported_at,
            )
        )
        out.events.extend(track.events)
        if dispatched and lead_id is not None:
            out.co_handlers.extend((case_id, c) for c in co_ids if c != lead_id)


def _rating(r: random.Random, mood: float, on_time: bool | None, reworks: int) -> int:
    score = 4.35 + 0.35 * mood - (0.7 if on_time is False else 0.0) - 0.5 * reworks + r.gauss(0.0, 0.75)
    return max(1, min(5, round(score)))


def iter_batches(
    ctx: Context,
    intake: Intake,
    reserve: Callable[[int], Sequence[int]],
    code_for: Callable[[dt.datetime], str],
    seed: int,
    batch: int,
    end: dt.datetime,
    size: int,
) -> Iterator[Generated]:
    """Rows for ``size`` cases at a time, in report order.

    ``reserve(n)`` hands out n new case ids; ``code_for(reported_at)`` the next readable code
    of that local day.
    """
    factory = CaseFactory(ctx, seed, batch, end)
    n = len(intake.epoch)
    for begin in range(0, n, size):
        stop = min(n, begin + size)
        chunk_ids = reserve(stop - begin)
        out = Generated()
        for k in range(begin, stop):
            reported_at = dt.datetime.fromtimestamp(int(intake.epoch[k]), tz=dt.UTC)
            factory.make(
                chunk_ids[k - begin],
                code_for(reported_at),
                reported_at,
                CHANNELS[int(intake.channel[k])][0],
                int(intake.cell[k]),
                float(intake.lon[k]),
                float(intake.lat[k]),
                out,
            )
        yield out
