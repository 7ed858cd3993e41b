"""Reads of the dashboard: every figure is one set-based query (or two, summary + recent cases).

Period figures are sums of :class:`~chengguan.dashboard.figures.Measures` over the cases
*reported* in the period. Whole days that the refresh task has summarised come from
:class:`~chengguan.dashboard.models.DailyCaseStat`; today and any day not summarised yet
come straight from the case table, so the dashboard is always complete and today is live.
Current-state figures (open and overdue cases) always read the case table, through indexes
on open statuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chengguan.cases.models import PUBLIC_CHANNELS, Case, Channel
from chengguan.cases.workflow import OPEN
from chengguan.catalog.models import Category
from chengguan.dashboard import figures, grains, labels
from chengguan.dashboard.figures import Measures, Period
from chengguan.dashboard.models import DailyCaseStat, SummaryDay
from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit

INVALID = ("rejected", "voided", "duplicate")
OPEN_STATUSES = tuple(sorted(s.value for s in OPEN))
PUBLIC = tuple(c.value for c in PUBLIC_CHANNELS)
CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)
# Channel groups the dashboard compares: complaints (投诉) are the public channels.
GROUPS: tuple[str, ...] = ("complaint", "patrol", "other")


def group_of(channel: str) -> str:
    if channel in PUBLIC:
        return "complaint"
    return "patrol" if channel == Channel.PATROL else "other"


def tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(tz()).date()


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz())


# -- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the person narrowed the dashboard to; all optional."""

    territory_id: int | None = None
    unit_id: int | None = None  # the lead unit (主办单位)
    kind: str | None = None  # component / matter
    major_code: str | None = None  # with ``kind``
    category_id: int | None = None

    def category_ids(self) -> list[int] | None:
        """The categories the filter allows, or None for all (a short list: one major class at most)."""
        if self.category_id is not None:
            return [self.category_id]
        if self.kind is None:
            return None
        qs = Category.objects.filter(kind=self.kind)
        if self.major_code:
            qs = qs.filter(major_code=self.major_code)
        return list(qs.values_list("pk", flat=True))

    def case_q(self) -> Q:
        q = Q()
        if self.territory_id is not None:
            q &= Q(territory_id=self.territory_id)
        if self.unit_id is not None:
            q &= Q(lead_unit_id=self.unit_id)
        if self.category_id is not None:
            q &= Q(category_id=self.category_id)
        elif self.kind is not None:
            q &= Q(category__kind=self.kind)
            if self.major_code:
                q &= Q(category__major_code=self.major_code)
        return q

    def dims(self) -> set[str]:
        """The summary dimensions this filter needs."""
        needed = set()
        if self.territory_id is not None:
            needed.add(grains.TERRITORY)
        if self.unit_id is not None:
            needed.add(grains.UNIT)
        if self.category_id is not None:
            needed.add(grains.CATEGORY)
        elif self.kind is not None:
            needed.add(grains.MAJOR)
        return needed

    def stat_q(self, grain: grains.Grain) -> Q:
        """This filter on the rows of one roll-up (which has every dimension the filter needs)."""
        q = Q(grain=grain.name)
        if self.territory_id is not None:
            q &= Q(territory_id=self.territory_id)
        if self.unit_id is not None:
            q &= Q(lead_unit_id=self.unit_id)
        if self.category_id is not None:
            q &= Q(category_id=self.category_id)
        elif self.kind is not None:
            if grains.CATEGORY in grain.dims:
                q &= Q(category_id__in=self.category_ids())
            else:
                q &= Q(kind=self.kind) & (Q(major_code=self.major_code) if self.major_code else Q())
        return q


# -- measures over days: summary + cases ------------------------------------------------------

RAW_MEASURES: dict[str, Any] = {
    "reported": Count("id"),
    "valid": Count("id", filter=~Q(status__in=INVALID)),
    "closed": Count("id", filter=Q(status="closed")),
    "handled": Count("id", filter=Q(handled_on_time__isnull=False)),
    "on_time": Count("id", filter=Q(handled_on_time=True)),
    "reworked": Count("id", filter=Q(rework_count__gt=0)),
    "extended": Count("id", filter=Q(extension_count__gt=0)),
    "rated": Count("id", filter=Q(satisfaction__isnull=False)),
    "satisfied": Count("id", filter=Q(satisfaction__gte=4)),
}
STAT_MEASURES: dict[str, Any] = {name: Sum(name) for name in Measures.names()}

# Group keys: the column (the same in cases and summary) and the summary dimension it needs.
GROUP_FIELDS: dict[str, tuple[str, str]] = {
    "channel": ("channel", grains.CHANNEL),
    "category": ("category_id", grains.CATEGORY),
    "unit": ("lead_unit_id", grains.UNIT),
    "territory": ("territory_id", grains.TERRITORY),
    "mode": ("disposition_mode", grains.MODE),
}


def grain_for(filters: Filters, group: Sequence[str]) -> grains.Grain | None:
    return grains.choose(filters.dims() | {GROUP_FIELDS[g][1] for g in group})


@dataclass(frozen=True)
class DaySplit:
    """Which days of a period come from the summary and which from the cases."""

    summarised: list[tuple[dt.date, dt.date]]  # [start, end) runs of summarised days
    raw: list[tuple[dt.date, dt.date]]  # [start, end) runs read from cases


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + dt.timedelta(days=1))
        else:
            runs.append((day, day + dt.timedelta(days=1)))
    return runs


def split_days(start: dt.date, end: dt.date, today: dt.date, *, use_summary: bool = True) -> DaySplit:
    """Summarised whole days before today from the summary; everything else from cases."""
    if not use_summary or start >= end:
        return DaySplit([], [(start, end)] if start < end else [])
    stop = min(end, today)
    done = (
        set(SummaryDay.objects.filter(day__gte=start, day__lt=stop).values_list("day", flat=True))
        if start < stop
        else set()
    )
    every = [start + dt.timedelta(days=k) for k in range((end - start).days)]
    return DaySplit(_runs(done), _runs(d for d in every if d not in done))


def _case_range_q(runs: Sequence[tuple[dt.date, dt.date]]) -> Q:
    return reduce(or_, (Q(reported_at__gte=day_start(a), reported_at__lt=day_start(b)) for a, b in runs))


def _stat_range_q(runs: Sequence[tuple[dt.date, dt.date]]) -> Q:
    return reduce(or_, (Q(day__gte=a, day__lt=b) for a, b in runs))


def measures_by(
    filters: Filters,
    start: dt.date,
    end: dt.date,
    group: Sequence[str] = (),
    *,
    now: dt.datetime | None = None,
    use_summary: bool = True,
) -> dict[tuple[Any, ...], Measures]:
    """Measures of the cases reported on local days ``[start, end)``, per group key."""
    grain = grain_for(filters, group)
    split = split_days(start, end, local_today(now), use_summary=use_summary and grain is not None)
    result: dict[tuple[Any, ...], Measures] = {}
    keys = [GROUP_FIELDS[g][0] for g in group]

    def merge(rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            key = tuple(row[k] for k in keys)
            measures = Measures.of(row)
            result[key] = result[key] + measures if key in result else measures

    if split.summarised and grain is not None:
        stats = DailyCaseStat.objects.filter(_stat_range_q(split.summarised), filters.stat_q(grain))
        merge(
            stats.values(*keys).annotate(**STAT_MEASURES).order_by()
            if keys
            else [stats.aggregate(**STAT_MEASURES)]
        )
    if split.raw:
        cases = Case.objects.filter(_case_range_q(split.raw), filters.case_q())
        merge(
            cases.values(*keys).annotate(**RAW_MEASURES).order_by()
            if keys
            else [cases.aggregate(**RAW_MEASURES)]
        )
    if not group:
        result = {(): result.get((), Measures())}
    return result


def measures(filters: Filters, period: Period, **kw: Any) -> Measures:
    return measures_by(filters, period.start, period.end, **kw)[()]


# -- the figures of one dashboard ---------------------------------------------------------------


@dataclass
class Comparison:
    current: Measures
    previous: Measures  # 环比
    last_year: Measures  # 同比

    @property
    def intake_mom(self) -> float | None:
        return figures.change(self.current.reported, self.previous.reported)

    @property
    def intake_yoy(self) -> float | None:
        return figures.change(self.current.reported, self.last_year.reported)

    @property
    def closure_mom(self) -> float | None:
        return figures.point_change(self.current.closure_rate, self.previous.closure_rate)

    @property
    def closure_yoy(self) -> float | None:
        return figures.point_change(self.current.closure_rate, self.last_year.closure_rate)

    @property
    def on_time_mom(self) -> float | None:
        return figures.point_change(self.current.on_time_rate, self.previous.on_time_rate)

    @property
    def on_time_yoy(self) -> float | None:
        return figures.point_change(self.current.on_time_rate, self.last_year.on_time_rate)


def channel_measures(filters: Filters, period: Period, **kw: Any) -> dict[str, Measures]:
    """Per channel, every channel present (zeros included)."""
    rows = measures_by(filters, period.start, period.end, ("channel",), **kw)
    return {c: rows.get((c,), Measures()) for c in CHANNELS}


def group_measures(by_channel: dict[str, Measures]) -> dict[str, Measures]:
    result = {g: Measures() for g in GROUPS}
    for channel, m in by_channel.items():
        result[group_of(channel)] = result[group_of(channel)] + m
    return result


def comparison(filters: Filters, period: Period, **kw: Any) -> dict[str, Comparison]:
    """Current, previous (环比) and year-earlier (同比) measures, in total and per channel group."""
    parts = []
    for p in (period, figures.previous_period(period), figures.year_earlier(period)):
        groups = group_measures(channel_measures(filters, p, **kw))
        groups["all"] = figures.total(groups.values())
        parts.append(groups)
    return {key: Comparison(parts[0][key], parts[1][key], parts[2][key]) for key in (*GROUPS, "all")}


@dataclass
class CategoryRow:
    category_id: int
    kind: str
    major: str
    name: str
    reported: int
    closed: int
    valid: int

    @property
    def closure_rate(self) -> float | None:
        return figures.rate(self.closed, self.valid)


def category_rows(
    filters: Filters, period: Period, limit: int = 15, **kw: Any
) -> tuple[list[CategoryRow], dict[str, int]]:
    """The categories with most reports (top ``limit``) and the totals per kind (部件/事项)."""
    rows = measures_by(filters, period.start, period.end, ("category",), **kw)
    ids = [key[0] for key, _m in sorted(rows.items(), key=lambda kv: -kv[1].reported)]
    info = {
        c.pk: c
        for c in Category.objects.filter(pk__in=ids).only("pk", "kind", "major_name", "name", "major_code")
    }
    kinds: dict[str, int] = {"matter": 0, "component": 0}
    for (cid,), m in rows.items():
        category = info.get(cid)
        if category is not None:
            kinds[category.kind] = kinds.get(category.kind, 0) + m.reported
    top = []
    for cid in ids[:limit]:
        category = info.get(cid)
        if category is None:
            continue
        m = rows[(cid,)]
        top.append(
            CategoryRow(cid, category.kind, category.major_name, category.name, m.reported, m.closed, m.valid)
        )
    return top, kinds


@dataclass
class UnitRow:
    unit_id: int | None
    name: str
    kind: str
    measures: Measures = field(default_factory=Measures)
    open: int = 0
    overdue: int = 0
    warning: int = 0
    deferred: int = 0
    modes: dict[str, int] = field(default_factory=dict)

    @property
    def light(self) -> str:
        return figures.unit_light(self.open, self.overdue).value

    @property
    def mix(self) -> list[figures.MixRow]:
        return figures.mix_721(self.modes)

    @property
    def mix_distance(self) -> float | None:
        return figures.mix_distance(self.modes)


def _unit_names(ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    wanted = [i for i in ids if i is not None]
    return {
        u.pk: (u.short_name or u.name, u.kind)
        for u in OrgUnit.objects.filter(pk__in=wanted).only("pk", "name", "short_name", "kind")
    }


WARNING_WINDOW = dt.timedelta(hours=24)


def backlog(filters: Filters, *, now: dt.datetime | None = None) -> dict[int | None, dict[str, int]]:
    """Open cases per lead unit now: open, overdue (past the step deadline, clock running),
    due within a day (预警), deferred (挂账). Unassigned open cases have unit ``None``."""
    now = now or timezone.now()
    running = Q(paused_at__isnull=True, deadline__isnull=False)
    rows = (
        Case.objects.filter(filters.case_q(), status__in=OPEN_STATUSES)
        .values("lead_unit_id")
        .annotate(
            open=Count("id"),
            overdue=Count("id", filter=running & Q(deadline__lt=now)),
            warning=Count("id", filter=running & Q(deadline__gte=now, deadline__lt=now + WARNING_WINDOW)),
            deferred=Count("id", filter=Q(status="deferred")),
        )
        .order_by()
    )
    return {
        row["lead_unit_id"]: {k: row[k] for k in ("open", "overdue", "warning", "deferred")} for row in rows
    }


def unit_rows(
    filters: Filters, period: Period, *, now: dt.datetime | None = None, **kw: Any
) -> list[UnitRow]:
    """Per lead unit: the period's measures, its 721 mix and its open/overdue cases now."""
    by_unit_mode = measures_by(filters, period.start, period.end, ("unit", "mode"), now=now, **kw)
    open_now = backlog(filters, now=now)
    ids = {key[0] for key in by_unit_mode} | set(open_now)
    names = _unit_names(ids)
    rows: dict[int | None, UnitRow] = {}
    for (uid, mode), m in by_unit_mode.items():
        if uid is None:
            continue  # never dispatched (refused, duplicates, self-handled, waiting)
        name, kind = names.get(uid, ("?", ""))
        row = rows.setdefault(uid, UnitRow(uid, name, kind))
        row.measures = row.measures + m
        if mode in figures.TARGET_721:
            row.modes[mode] = row.modes.get(mode, 0) + m.valid
    for uid, counts in open_now.items():
        if uid is None:
            name, kind = str(_("未派遣")), ""
        else:
            name, kind = names.get(uid, ("?", ""))
        row = rows.setdefault(uid, UnitRow(uid, name, kind))
        row.open, row.overdue = counts["open"], counts["overdue"]
        row.warning, row.deferred = counts["warning"], counts["deferred"]
    return sorted(rows.values(), key=lambda r: (-r.overdue, -r.open, -r.measures.reported, r.name))


def mode_counts(filters: Filters, period: Period, **kw: Any) -> dict[str, int]:
    """Valid cases per disposition mode (the district's 721 mix)."""
    rows = measures_by(filters, period.start, period.end, ("mode",), **kw)
    return {key[0]: m.valid for key, m in rows.items()}


@dataclass
class MonthRow:
    month: dt.date
    measures: Measures
    last_year: Measures


def trend(filters: Filters, months: int = 13, *, now: dt.datetime | None = None, **kw: Any) -> list[MonthRow]:
    """Month by month for the last ``months`` months (the current one to date), with the same
    months a year earlier for 同比."""
    today = local_today(now)
    starts = figures.month_starts(today, months)
    first = figures.shift_months(starts[0], -12)
    end = today + dt.timedelta(days=1)
    per_month = _monthly(filters, first, end, now=now, **kw)
    rows = []
    for start in starts:
        rows.append(
            MonthRow(
                start,
                per_month.get(start, Measures()),
                per_month.get(figures.shift_months(start, -12), Measures()),
            )
        )
    return rows


def _monthly(
    filters: Filters,
    start: dt.date,
    end: dt.date,
    *,
    now: dt.datetime | None = None,
    use_summary: bool = True,
) -> dict[dt.date, Measures]:
    grain = grain_for(filters, ())
    split = split_days(start, end, local_today(now), use_summary=use_summary and grain is not None)
    result: dict[dt.date, Measures] = {}

    def add(month: dt.date, m: Measures) -> None:
        result[month] = result[month] + m if month in result else m

    if split.summarised and grain is not None:
        rows = (
            DailyCaseStat.objects.filter(_stat_range_q(split.summarised), filters.stat_q(grain))
            .annotate(month=TruncMonth("day"))
            .values("month")
            .annotate(**STAT_MEASURES)
            .order_by()
        )
        for row in rows:
            add(row["month"], Measures.of(row))
    if split.raw:
        raw = (
            Case.objects.filter(_case_range_q(split.raw), filters.case_q())
            .annotate(month=TruncMonth("reported_at", tzinfo=tz()))
            .values("month")
            .annotate(**RAW_MEASURES)
            .order_by()
        )
        for row in raw:
            month = row["month"]
            add(month.date() if isinstance(month, dt.datetime) else month, Measures.of(row))
    return result


# -- hot spots --------------------------------------------------------------------------------

HOTSPOT_LEVELS = {2: "responsibility_grid", 3: "area_grid", 4: "unit_grid"}
HOTSPOT_MAX_CELLS = 3000
HOTSPOT_IN_LIST = 500


def hotspot_level(zoom: int) -> int:
    """Coarser grids when zoomed out: 责任网格 below zoom 13, 区域网格 to 14, 单元网格 from 15."""
    if zoom >= 15:
        return 4
    if zoom >= 13:
        return 3
    return 2


@dataclass(frozen=True)
class Hotspot:
    code: str
    name: str
    count: int
    bounds: tuple[float, float, float, float]  # west, south, east, north
    label: tuple[float, float]


def hotspots(
    filters: Filters,
    period: Period,
    bbox: tuple[float, float, float, float],
    zoom: int,
    *,
    limit: int = HOTSPOT_MAX_CELLS,
) -> tuple[int, list[Hotspot]]:
    """Case counts per grid cell in the viewport (only cells with cases), at a level fitting the zoom."""
    from chengguan.grid.models import GridCell
    from chengguan.grid.selectors import active_layer

    level = hotspot_level(zoom)
    layer = active_layer()
    if layer is None:
        return level, []
    west, south, east, north = bbox
    cells = {
        c["code"]: c
        for c in GridCell.objects.filter(
            layer=layer,
            level=level,
            min_lon__lte=east,
            max_lon__gte=west,
            min_lat__lte=north,
            max_lat__gte=south,
        ).values("code", "name", "min_lon", "min_lat", "max_lon", "max_lat", "label_lon", "label_lat")
    }
    if not cells:
        return level, []
    column = HOTSPOT_LEVELS[level]
    qs = Case.objects.filter(
        filters.case_q(),
        reported_at__gte=day_start(period.start),
        reported_at__lt=day_start(period.end),
    )
    # A small viewport asks for its cells; a large one counts every cell (an index-only scan
    # of the period's grid codes) and keeps those in view.
    if len(cells) <= HOTSPOT_IN_LIST:
        qs = qs.filter(**{f"{column}__in": list(cells)})
    else:
        qs = qs.exclude(**{column: ""})
    counts = qs.values(column).annotate(n=Count("*")).order_by()
    spots = []
    for row in counts:
        cell = cells.get(row[column])
        if cell is None:
            continue
        spots.append(
            Hotspot(
                cell["code"],
                cell["name"],
                row["n"],
                (cell["min_lon"], cell["min_lat"], cell["max_lon"], cell["max_lat"]),
                (cell["label_lon"], cell["label_lat"]),
            )
        )
    spots.sort(key=lambda s: -s.count)
    return level, spots[:limit]


# -- choices for the filter form --------------------------------------------------------------


def territory_choices() -> list[tuple[int, str]]:
    return list(
        OrgUnit.objects.filter(kind__in=TERRITORIAL_KINDS, active=True)
        .order_by("code")
        .values_list("pk", "name")
    )


def unit_choices() -> list[tuple[int, str]]:
    """Units that lead cases (anything cases can be dispatched to), by code."""
    return [
        (pk, short or name)
        for pk, name, short in OrgUnit.objects.filter(active=True)
        .exclude(kind__in=("bureau", "committee", "village"))
        .order_by("kind", "code")
        .values_list("pk", "name", "short_name")
    ]


def major_choices() -> list[tuple[str, str]]:
    """Major classes as ``kind:major`` with their names (部件/事项 大类)."""
    rows = (
        Category.objects.values_list("kind", "major_code", "major_name")
        .distinct()
        .order_by("kind", "major_code")
    )
    return [(f"{k}:{m}", f"{labels.KINDS.get(k, k)} {m} {n}") for k, m, n in rows]


def latest_cases(filters: Filters, limit: int = 12) -> list[dict[str, Any]]:
    """The newest reports (for the big screen's ticker)."""
    rows = (
        Case.objects.filter(filters.case_q())
        .order_by("-reported_at")
        .values(
            "code",
            "channel",
            "status",
            "reported_at",
            category_name=F("category__name"),
            territory_name=F("territory__name"),
        )[:limit]
    )
    return [dict(row) for row in rows]
