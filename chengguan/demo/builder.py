"""Builds the demo district, idempotently: a second run creates and changes nothing."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from chengguan.catalog.models import Category
from chengguan.core.progress import Progress
from chengguan.demo import district
from chengguan.org.models import Equipment, FunctionalDomain, OrgUnit, Staff, Vehicle
from chengguan.routing.models import RoutingRule

DATA = Path(__file__).resolve().parent / "data"
ADMIN_USERNAME = "admin"
# A demo login, printed by `make run`; production installs create their own administrators.
ADMIN_PASSWORD = "chengguan-demo"
STAFF_PASSWORD = "chengguan-demo"

@dataclass
class Summary:
    created: Counter[str] = field(default_factory=Counter)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (username, password, role)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        made = "，".join(f"{name} {n}" for name, n in self.created.items() if n) or "无（已是最新）"
        return [f"本次新增：{made}", *self.notes]


def build(progress: Progress | None = None, *, with_grid: bool = True) -> Summary:
    progress = progress or Progress()
    summary = Summary()
    with progress.stage("职能领域与部件事项目录（GB/T 47678.5-2026）"):
        _catalog(summary, progress)
    with progress.stage("单位：执法局、城管委及 42 个成员单位、执法中队、村社区"):
        _units(summary)
    with progress.stage("人员、装备与车辆（550 名协管员、160 名自行车协管员…）"):
        _staff(summary)
    with progress.stage("责任矩阵（派遣规则）"):
        _routing(summary)
    if with_grid:
        _grid(summary, progress)
    with progress.stage("考评标准（示例：六个零容忍、十个严管理、常规工作）"):
        _assessment(summary)
    with progress.stage("登录账号"):
        _admin(summary)
    return summary


def _catalog(summary: Summary, progress: Progress) -> None:
    from chengguan.catalog.services import catalog_load as loader

    report = loader(progress=progress)
    summary.created["目录条目"] += sum(part.created for part in report.parts.values())


@transaction.atomic
def _units(summary: Summary) -> None:
    specs = district.units()
    existing = {u.code: u for u in OrgUnit.objects.all()}
    domains = {d.code: d for d in FunctionalDomain.objects.all()}
    for spec in specs:
        if spec.code in existing:
            continue
        unit = OrgUnit.objects.create(
            code=spec.code,
            name=spec.name,
            short_name=spec.short,
            kind=spec.kind,
            parent=existing.get(spec.parent) if spec.parent else None,
            territory=existing.get(spec.territory) if spec.territory else None,
            committee_member=spec.committee,
            in_grid=spec.in_grid,
        )
        unit.domains.set([domains[c] for c in spec.domains if c in domains])
        existing[spec.code] = unit
        summary.created["单位"] += 1


@transaction.atomic
def _staff(summary: Summary) -> None:
    units = {u.code: u for u in OrgUnit.objects.all()}
    have = set(Staff.objects.values_list("code", flat=True))
    names = district.NameMaker()
    new_staff: list[Staff] = []
    wants: list[tuple[Staff, district.StaffPlan, int]] = []
    for plan in district.staff_plans():
        for n in range(1, plan.count + 1):
            code = f"{plan.prefix}{n:03d}"
            name = names.make()  # drawn for every row so names do not shift when rows exist
            if code in have:
                continue
            phone = f"139{abs(hash_code(code)) % 10**8:08d}"
            staff = Staff(code=code, name=name, role=plan.role, unit=units[plan.unit], phone=phone)
            new_staff.append(staff)
            wants.append((staff, plan, n))
    Staff.objects.bulk_create(new_staff, batch_size=500)
    summary.created["人员"] += len(new_staff)
    saved = {s.code: s for s in Staff.objects.filter(code__in=[s.code for s in new_staff])}
    equipment: list[Equipment] = []
    vehicles: list[Vehicle] = []
    for staff, plan, _n in wants:
        holder = saved[staff.code]
        for kind in plan.equipment:
            equipment.append(
                Equipment(code=f"EQ-{kind}-{staff.code}", kind=kind, unit=holder.unit, holder=holder)
            )
        if plan.vehicle:
            vehicles.append(
                Vehicle(code=f"VH-{staff.code}", kind=plan.vehicle, unit=holder.unit, holder=holder)
            )
    Equipment.objects.bulk_create(equipment, batch_size=500, ignore_conflicts=True)
    Vehicle.objects.bulk_create(vehicles, batch_size=500, ignore_conflicts=True)
    summary.created["装备"] += len(equipment)
    summary.created["车辆"] += len(vehicles)
    # Each brigade also has a patrol car and a truck.
    for suffix, _name, _kind in district.TERRITORIES:
        brigade = units[district.brigade_code(suffix)]
        for kind, number in (("car", 1), ("truck", 2)):
            _obj, created = Vehicle.objects.get_or_create(
                code=f"VH-{brigade.code}-{number}",
                defaults={"kind": kind, "unit": brigade, "plate": f"蒙D·{suffix}{number:03d}示"},
            )
            summary.created["车辆"] += created


def hash_code(text: str) -> int:
    """A hash that is the same on every run (Python's own str hash is salted per process)."""
    value = 7
    for char in text:
        value = (value * 31 + ord(char)) % (2**61 - 1)
    return value


@dataclass(frozen=True)
class MatrixRow:
    kind: str
    major: str
    keywords: tuple[str, ...]
    lead: str
    co: tuple[str, ...]
    note: str

    def matches(self, category: Category) -> bool:
        if self.kind != "*" and self.kind != category.kind:
            return False
        if self.major != "*" and self.major != category.major_code:
            return False
        return not self.keywords or any(word in category.name for word in self.keywords)


def read_matrix(path: Path = DATA / "routing_matrix.csv") -> list[MatrixRow]:
    with path.open(encoding="utf-8") as handle:
        return [
            MatrixRow(
                kind=row["类别"],
                major=row["大类"],
                keywords=tuple(w for w in row["名称包含"].split("|") if w),
                lead=row["主办"],
                co=tuple(c for c in row["协办"].split("|") if c),
                note=row["说明"],
            )
            for row in csv.DictReader(handle)
        ]


LOCAL = {"BRIGADE", "TERRITORY"}


@transaction.atomic
def _routing(summary: Summary) -> None:
    matrix = read_matrix()
    units = {u.code: u for u in OrgUnit.objects.all()}
    territories = [units[district.territory_code(s)] for s, _n, _k in district.TERRITORIES]
    brigades = {t.pk: units[district.brigade_code(t.code[1:])] for t in territories}
    existing = {
        (r.category_id, r.territory_id, r.grid_code)
        for r in RoutingRule.objects.only("category", "territory", "grid_code")
    }

    def resolve(code: str, territory: OrgUnit | None) -> OrgUnit:
        if code == "BRIGADE":
            assert territory is not None
            return brigades[territory.pk]
        if code == "TERRITORY":
            assert territory is not None
            return territory
        return units[code]

    for category in Category.objects.all():
        row = next((r for r in matrix if r.matches(category)), None)
        if row is None:
            continue
        local = row.lead in LOCAL or any(c in LOCAL for c in row.co)
        places: list[OrgUnit | None] = list(territories) if local else [None]
        for territory in places:
            key = (category.pk, territory.pk if territory else None, "")
            if key in existing:
                continue
            rule = RoutingRule.objects.create(
                category=category, territory=territory, lead_unit=resolve(row.lead, territory), note=row.note
            )
            rule.co_handlers.set([resolve(c, territory) for c in row.co])
            summary.created["派遣规则"] += 1


def _grid(summary: Summary, progress: Progress) -> None:
    try:
        from chengguan.grid import demo as grid_demo
    except ImportError:
        return
    territories = list(
        OrgUnit.objects.filter(
            code__in=[district.territory_code(s) for s, _n, _k in district.TERRITORIES]
        ).order_by("code")
    )
    result = grid_demo.build_demo_grid(progress, territories)
    if result.get("created"):
        summary.created["网格"] += sum(result["cells"].values())


def _assessment(summary: Summary) -> None:
    from chengguan.assessment.demo import load_sample_standard
    from chengguan.assessment.models import StandardItem

    before = StandardItem.objects.count()
    load_sample_standard()
    summary.created["考评标准条目"] += StandardItem.objects.count() - before


def _admin(summary: Summary) -> None:
    user_model = get_user_model()
    admin = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if admin is None:
        user_model.objects.create_superuser(ADMIN_USERNAME, "", ADMIN_PASSWORD)
        summary.created["登录账号"] += 1
    summary.logins.append((ADMIN_USERNAME, ADMIN_PASSWORD, "系统管理员"))
    # One login per post so each role can be tried; the plan marks which staff get one.
    wanted = {
        f"{plan.prefix}{n:03d}": plan for plan in district.staff_plans() for n in range(1, plan.logins + 1)
    }
    for staff in Staff.objects.filter(code__in=list(wanted)).select_related("user").order_by("code"):
        username = staff.code.lower()
        if staff.user is None:
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user = user_model.objects.create_user(username, "", STAFF_PASSWORD, first_name=staff.name)
                summary.created["登录账号"] += 1
            staff.user = user
            staff.save(update_fields=["user"])
        summary.logins.append((username, STAFF_PASSWORD, staff.get_role_display()))
