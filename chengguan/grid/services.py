"""Writes of the grid app: import, generate, activate, assign people. Validate first, then
change the database in one transaction; a bad file or a refused activation changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from shapely.geometry.base import BaseGeometry

from chengguan.core.progress import Progress
from chengguan.core.tabular import ImportReport, TableError, read_table, require_columns
from chengguan.grid.generator import GeneratedGrid
from chengguan.grid.geometry import MetricFrame, areas_m2, repaired, to_wkb
from chengguan.grid.importing import Assembled, FieldMap, PreparedCell, assemble
from chengguan.grid.models import DutyRole, GridCell, GridDuty, GridLayer, LayerSource, LayerStatus
from chengguan.grid.readers import FeatureSet, read_boundary, read_features
from chengguan.grid.validation import Report, Tolerances, validate
from chengguan.org.models import OrgUnit, Staff

BATCH = 2000


class GridServiceError(ValueError):
    """A refused operation; the message tells the clerk why and what to do."""


@dataclass(frozen=True)
class LevelSource:
    level: int
    path: Path
    fields: FieldMap = field(default_factory=FieldMap)
    layer: str | None = None  # GeoPackage layer
    encoding: str | None = None


@dataclass
class GridOutcome:
    layer: GridLayer | None
    report: Report
    activated: bool
    notes: list[str]

    def message(self) -> str:
        if self.layer is None:
            return "仅校验，未写入数据库。"
        if self.activated:
            return f"网格版本 #{self.layer.pk}「{self.layer.name}」已启用。"
        if self.report.errors:
            return (
                f"网格已保存为待启用版本 #{self.layer.pk}，"
                f"但校验发现 {len(self.report.errors)} 个错误，未启用，"
                f"现用网格保持不变。请修正数据后重新导入；若确认可以接受这些问题，"
                f"执行 chengguan grid activate {self.layer.pk} --accept-report。"
            )
        return f"网格已保存为待启用版本 #{self.layer.pk}（未启用）。"


def territory_lookup() -> dict[str, int]:
    """Codes and names of towns/subdistricts → their ids (names only where unambiguous)."""
    from chengguan.org.models import TERRITORIAL_KINDS

    lookup: dict[str, int] = {}
    names: dict[str, list[int]] = {}
    for pk, code, name, short in OrgUnit.objects.filter(kind__in=TERRITORIAL_KINDS).values_list(
        "pk", "code", "name", "short_name"
    ):
        lookup[code] = pk
        for text in {name, short} - {""}:
            names.setdefault(text, []).append(pk)
    for text, pks in names.items():
        if len(pks) == 1:
            lookup.setdefault(text, pks[0])
    return lookup


def read_sources(sources: Sequence[LevelSource], *, gcj02: bool = False) -> dict[int, FeatureSet]:
    levels: dict[int, FeatureSet] = {}
    for source in sources:
        if source.level in levels:
            raise GridServiceError(f"第 {source.level} 级网格指定了多个文件，每级只能导入一个文件。")
        levels[source.level] = read_features(
            source.path, layer=source.layer, encoding=source.encoding, gcj02=gcj02
        )
    return levels


def prepare_import(
    sources: Sequence[LevelSource],
    *,
    gcj02: bool = False,
    boundary_path: Path | None = None,
    tolerances: Tolerances | None = None,
    progress: Progress | None = None,
) -> tuple[Assembled, BaseGeometry | None, Report]:
    """Read and check everything; raises GridFileError/GridServiceError for unusable input."""
    if not sources:
        raise GridServiceError("请至少指定一个网格文件（例如 --level 4=单元网格.geojson）。")
    levels = read_sources(sources, gcj02=gcj02)
    boundary = read_boundary(boundary_path, gcj02=gcj02) if boundary_path else None
    assembled = assemble(
        levels,
        {s.level: s.fields for s in sources},
        territories=territory_lookup(),
        county_code=settings.CHENGGUAN_DISTRICT_CODE,
    )
    for fs in levels.values():
        assembled.notes.extend(fs.notes)
    if progress:
        progress.step(f"读取完成：{len(assembled.cells):,} 个网格")
    report = validate(
        assembled.validation_inputs(), boundary=boundary, tolerances=tolerances, progress=progress
    )
    report.issues[:0] = assembled.issues
    return assembled, boundary, report


def import_grid(
    sources: Sequence[LevelSource],
    *,
    name: str,
    gcj02: bool = False,
    boundary_path: Path | None = None,
    tolerances: Tolerances | None = None,
    accept_report: bool = False,
    activate: bool = True,
    dry_run: bool = False,
    user: AbstractBaseUser | AnonymousUser | None = None,
    progress: Progress | None = None,
) -> GridOutcome:
    """Import a grid from files (one per level) as a new layer, activated when allowed."""
    assembled, boundary, report = prepare_import(
        sources, gcj02=gcj02, boundary_path=boundary_path, tolerances=tolerances, progress=progress
    )
    if dry_run:
        return GridOutcome(None, report, False, assembled.notes)
    files = "\n".join(f"{s.level}={s.path}" for s in sources)
    with transaction.atomic():
        layer = _save_layer(
            assembled.cells,
            name=name,
            source=LayerSource.IMPORTED,
            boundary=boundary,
            lattice=None,
            report=report,
            source_files=files,
            fingerprint="",
            note="\n".join(assembled.notes),
            progress=progress,
        )
        activated = False
        if activate and (report.ok or accept_report):
            activate_layer(layer, accept_report=accept_report, user=user)
            activated = True
    return GridOutcome(layer, report, activated, assembled.notes)


def save_generated(
    grid: GeneratedGrid,
    report: Report,
    *,
    name: str,
    source: str = LayerSource.GENERATED,
    territory_ids: Mapping[Any, int | None] | None = None,
    fingerprint: str = "",
    accept_report: bool = False,
    activate: bool = True,
    user: AbstractBaseUser | AnonymousUser | None = None,
    progress: Progress | None = None,
) -> GridOutcome:
    """Store a generated grid as a new layer (and activate it when its report allows)."""
    territory_ids = territory_ids or {}
    cells = [
        PreparedCell(c.level, c.code, c.name, c.geometry, c.parent, territory_ids.get(c.territory), {}, "")
        for c in grid.cells
    ]
    with transaction.atomic():
        layer = _save_layer(
            cells,
            name=name,
            source=source,
            boundary=grid.boundary,
            lattice=grid.lattice.as_dict(),
            report=report,
            source_files="",
            fingerprint=fingerprint,
            note="\n".join(grid.notes),
            progress=progress,
        )
        activated = False
        if activate and (report.ok or accept_report):
            activate_layer(layer, accept_report=accept_report, user=user)
            activated = True
    return GridOutcome(layer, report, activated, grid.notes)


def _save_layer(
    cells: Sequence[PreparedCell],
    *,
    name: str,
    source: str,
    boundary: BaseGeometry | None,
    lattice: dict[str, Any] | None,
    report: Report,
    source_files: str,
    fingerprint: str,
    note: str,
    progress: Progress | None,
) -> GridLayer:
    layer = GridLayer.objects.create(
        name=name[:100],
        source=source,
        status=LayerStatus.DRAFT,
        boundary=to_wkb(boundary) if boundary is not None else None,
        lattice=lattice,
        source_files=source_files,
        report=report.to_dict(),
        error_count=len(report.errors),
        warning_count=len(report.warnings),
        fingerprint=fingerprint,
        note=note,
    )
    geoms = np.array([c.geometry for c in cells], dtype=object)
    valid = np.array([repaired(g) for g in geoms], dtype=object)
    frame = MetricFrame.around(valid)
    areas = areas_m2(valid, frame)
    bounds = shapely.bounds(geoms)
    labels = shapely.point_on_surface(valid)
    label_xy = shapely.get_coordinates(labels)
    empty = shapely.is_empty(labels)
    wkbs = shapely.to_wkb(geoms)
    ids: list[int | None] = [None] * len(cells)
    # Parents are written before children so each child can point at its parent's id.
    # Batches never mix levels, so a parent's id is known before its children are built.
    by_level: dict[int, list[int]] = {}
    for i, c in enumerate(cells):
        by_level.setdefault(c.level, []).append(i)
    chunks = [idx[s : s + BATCH] for _, idx in sorted(by_level.items()) for s in range(0, len(idx), BATCH)]
    label_pos = np.cumsum(~empty) - 1
    written = 0
    for n, chunk in enumerate(chunks):
        objs = []
        for i in chunk:
            c = cells[i]
            lx, ly = (
                (float(label_xy[label_pos[i]][0]), float(label_xy[label_pos[i]][1]))
                if not empty[i]
                else (float((bounds[i][0] + bounds[i][2]) / 2), float((bounds[i][1] + bounds[i][3]) / 2))
            )
            objs.append(
                GridCell(
                    layer=layer,
                    level=c.level,
                    code=c.code[:32],
                    name=c.name[:100],
                    parent_id=ids[c.parent] if c.parent is not None else None,
                    territory_id=c.territory_id,
                    geometry=bytes(wkbs[i]),
                    min_lon=_finite(bounds[i][0]),
                    min_lat=_finite(bounds[i][1]),
                    max_lon=_finite(bounds[i][2]),
                    max_lat=_finite(bounds[i][3]),
                    label_lon=lx,
                    label_lat=ly,
                    area_m2=float(areas[i]),
                    properties=c.properties,
                )
            )
        GridCell.objects.bulk_create(objs)
        for i, obj in zip(chunk, objs, strict=True):
            ids[i] = obj.pk
        written += len(chunk)
        if progress and n % 5 == 4:
            progress.step(f"写入网格：{written:,} / {len(cells):,}")
    return layer


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else 0.0


def activate_layer(
    layer: GridLayer, *, accept_report: bool = False, user: AbstractBaseUser | AnonymousUser | None = None
) -> GridLayer:
    """Make ``layer`` the active grid; the previous one is retired and its duties carried over."""
    if layer.status == LayerStatus.ACTIVE:
        return layer
    if layer.error_count and not accept_report:
        raise GridServiceError(
            f"网格版本 #{layer.pk} 的校验报告有 {layer.error_count} 个错误，不能直接启用。"
            "请先查看报告；确认接受后使用 --accept-report 启用。"
        )
    with transaction.atomic():
        now = timezone.now()
        previous = GridLayer.objects.select_for_update().filter(status=LayerStatus.ACTIVE).first()
        if previous is not None:
            previous.status = LayerStatus.RETIRED
            previous.retired_at = now
            previous.save(update_fields=["status", "retired_at", "updated_at"])
        layer.status = LayerStatus.ACTIVE
        layer.activated_at = now
        layer.report_accepted = bool(layer.error_count)
        accepted = bool(layer.error_count) and user is not None and user.is_authenticated
        layer.accepted_by_id = user.pk if accepted and user is not None else None
        layer.save(update_fields=["status", "activated_at", "report_accepted", "accepted_by", "updated_at"])
        if previous is not None:
            _carry_over_duties(previous, layer)
        # Components keep the code of the unit grid they lie in; the new grid may number
        # them differently.
        relocate_components()
    return layer


def _carry_over_duties(old: GridLayer, new: GridLayer) -> int:
    """Copy the responsible people to the new layer's cells with the same codes."""
    new_ids = dict(GridCell.objects.filter(layer=new).values_list("code", "pk"))
    duties = GridDuty.objects.filter(cell__layer=old).values_list(
        "cell__code", "staff_id", "role", "department_id", "note"
    )
    copies = [
        GridDuty(cell_id=new_ids[code], staff_id=staff, role=role, department_id=dept, note=note)
        for code, staff, role, dept, note in duties
        if code in new_ids
    ]
    GridDuty.objects.bulk_create(copies, batch_size=BATCH, ignore_conflicts=True)
    return len(copies)


def assign_duty(
    cell: GridCell, staff: Staff, role: str, *, department: OrgUnit | None = None, note: str = ""
) -> GridDuty:
    """Name a person responsible for a cell in a role (idempotent)."""
    if role not in DutyRole.values:
        raise GridServiceError(f"未知的网格职责「{role}」。")
    if role == DutyRole.DEPARTMENT_LIAISON and department is None:
        raise GridServiceError("部门联络员必须注明所代表的入格部门。")
    if not staff.active:
        raise GridServiceError(f"{staff.name} 已不在岗，不能指定为网格责任人。")
    duty, _ = GridDuty.objects.update_or_create(
        cell=cell, staff=staff, role=role, defaults={"department": department, "note": note}
    )
    return duty


def revalidate_layer(
    layer: GridLayer,
    *,
    tolerances: Tolerances | None = None,
    save: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Validate a stored layer again (e.g. with another tolerance); optionally keep the report."""
    from chengguan.grid.geometry import from_wkb
    from chengguan.grid.validation import CellInput

    rows = list(
        GridCell.objects.filter(layer=layer)
        .order_by("level", "code")
        .values_list("pk", "level", "code", "name", "parent_id", "geometry")
    )
    position = {row[0]: i for i, row in enumerate(rows)}
    cells = [
        CellInput(level, code, name, from_wkb(geom), position.get(parent) if parent is not None else None)
        for _, level, code, name, parent, geom in rows
    ]
    boundary = from_wkb(layer.boundary) if layer.boundary else None
    report = validate(cells, boundary=boundary, tolerances=tolerances, progress=progress)
    if save:
        layer.report = report.to_dict()
        layer.error_count = len(report.errors)
        layer.warning_count = len(report.warnings)
        layer.save(update_fields=["report", "error_count", "warning_count", "updated_at"])
    return report


DUTY_COLUMNS = ("网格编码", "工号", "职责")
_ROLE_NAMES = {str(label): value for value, label in DutyRole.choices} | {v: v for v in DutyRole.values}


def import_duties(
    source: Path | bytes, *, filename: str | None = None, encoding: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Assign people to cells of the active grid from a CSV/XLSX table.

    Columns: 网格编码, 工号, 职责 (网格长/巡查员/协管员/网格民警/部门联络员), optional 部门
    (unit code, required for 部门联络员). Every row is checked first; one bad row and
    nothing is written.
    """
    from chengguan.grid.selectors import active_layer

    report = ImportReport()
    try:
        table = read_table(source, filename=filename, encoding=encoding)
    except TableError as exc:
        report.add(0, "", str(exc))
        return report
    if not require_columns(table, DUTY_COLUMNS, report):
        return report
    layer = active_layer()
    if layer is None:
        report.add(0, "", "当前没有在用的网格，请先生成或导入网格。")
        return report
    cells = dict(GridCell.objects.filter(layer=layer).values_list("code", "pk"))
    staff = {s.code: s for s in Staff.objects.all()}
    units = dict(OrgUnit.objects.values_list("code", "pk"))
    planned: list[tuple[int, int, str, int | None]] = []
    for line, row in table.rows:
        code, person, role_text = row["网格编码"], row["工号"], row["职责"]
        dept = row.get("部门", "")
        ok = True
        if code not in cells:
            report.add(line, "网格编码", f"在用网格中没有编码为 {code or '（空）'} 的网格")
            ok = False
        member = staff.get(person)
        if member is None:
            report.add(line, "工号", f"没有工号为 {person or '（空）'} 的人员")
            ok = False
        elif not member.active:
            report.add(line, "工号", f"{member.name} 已不在岗")
            ok = False
        role = _ROLE_NAMES.get(role_text)
        if role is None:
            report.add(
                line,
                "职责",
                f"职责「{role_text}」不认识，应为：{'、'.join(str(v) for _, v in DutyRole.choices)}",
            )
            ok = False
        if dept and dept not in units:
            report.add(line, "部门", f"没有单位编码为 {dept} 的单位")
            ok = False
        if role == DutyRole.DEPARTMENT_LIAISON and not dept:
            report.add(line, "部门", "部门联络员必须填写所代表的入格部门")
            ok = False
        if ok and member is not None and role is not None:
            planned.append((cells[code], member.pk, role, units.get(dept) if dept else None))
    if not report.ok or dry_run:
        return report
    with transaction.atomic():
        existing = set(GridDuty.objects.filter(cell__layer=layer).values_list("cell_id", "staff_id", "role"))
        new = [
            GridDuty(cell_id=c, staff_id=s, role=r, department_id=d)
            for c, s, r, d in dict.fromkeys(planned)
            if (c, s, r) not in existing
        ]
        GridDuty.objects.bulk_create(new, batch_size=BATCH)
        report.created = len(new)
        report.unchanged = len(planned) - len(new)
    return report


@dataclass
class ComponentOutcome:
    errors: list[str]
    created: int = 0
    updated: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"发现 {len(self.errors)} 处错误，数据库未做任何修改。"
        return f"新增部件 {self.created} 个，更新 {self.updated} 个。"


def import_components(
    path: Path,
    fields: Any,
    *,
    gcj02: bool = False,
    layer_name: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ComponentOutcome:
    """Import the component inventory from a point file; identifiers already known are updated.

    Every point must lie in a unit grid of the active grid; one bad feature and nothing is
    written.
    """
    from chengguan.catalog.models import Category, CategoryKind
    from chengguan.grid.components import plan_components
    from chengguan.grid.models import Component
    from chengguan.grid.readers import read_points
    from chengguan.grid.selectors import get_locator

    points, names, notes = read_points(path, layer=layer_name, encoding=encoding, gcj02=gcj02)
    for name in (fields.category, fields.code, fields.name, fields.state, fields.owner, fields.maintainer):
        if name and name not in names:
            raise GridServiceError(
                f"文件中没有字段「{name}」。文件中的字段有：{'、'.join(names) or '（无）'}。"
            )
    county = settings.CHENGGUAN_DISTRICT_CODE
    categories = dict(Category.objects.filter(kind=CategoryKind.COMPONENT).values_list("code", "pk"))
    units: dict[str, int] = {}
    for pk, code, name in OrgUnit.objects.values_list("pk", "code", "name"):
        units[code] = pk
        units.setdefault(name, pk)
    last: dict[str, int] = {}
    for code in Component.objects.filter(code__startswith=county).values_list("code", flat=True):
        last[code[6:11]] = max(last.get(code[6:11], 0), int(code[11:]))
    plan = plan_components(
        points, fields, county_code=county, categories=categories, units=units, last_sequence=last
    )
    errors = plan.messages()
    locator = get_locator()
    if locator is None:
        errors.append("当前没有在用的网格，无法确定部件所在的单元网格。请先生成或导入网格。")
    unit_of: dict[str, str] = {}
    if locator is not None and plan.rows:
        batch = locator.locate_many([r.lon for r in plan.rows], [r.lat for r in plan.rows])
        lowest = max(locator.levels)
        for row, cell_code, found in zip(plan.rows, batch.codes(lowest), batch.found.tolist(), strict=True):
            if not found or cell_code is None:
                errors.append(
                    f"第 {row.number} 个要素：位置（东经 {row.lon:.6f}°，北纬 {row.lat:.6f}°）不在辖区网格内"
                )
            else:
                unit_of[row.code] = cell_code
    outcome = ComponentOutcome(errors, notes=notes)
    if errors or dry_run:
        return outcome
    with transaction.atomic():
        existing = {c.code: c for c in Component.objects.filter(code__in=[r.code for r in plan.rows])}
        new, changed = [], []
        for r in plan.rows:
            values = {
                "category_id": r.category_id,
                "name": r.name,
                "state": r.state,
                "owner_id": r.owner_id,
                "maintainer_id": r.maintainer_id,
                "address": r.address,
                "lon": r.lon,
                "lat": r.lat,
                "unit_grid": unit_of[r.code],
                "properties": r.properties,
            }
            if r.code in existing:
                obj = existing[r.code]
                for key, value in values.items():
                    setattr(obj, key, value)
                changed.append(obj)
            else:
                new.append(Component(code=r.code, **values))
        Component.objects.bulk_create(new, batch_size=BATCH)
        Component.objects.bulk_update(changed, list(values), batch_size=BATCH)
    outcome.created, outcome.updated = len(new), len(changed)
    return outcome


def relocate_components() -> int:
    """Refresh every component's unit grid after the active grid changed; returns how many moved."""
    from chengguan.grid.models import Component
    from chengguan.grid.selectors import get_locator

    rows = list(Component.objects.values_list("pk", "lon", "lat", "unit_grid"))
    if not rows:
        return 0
    locator = get_locator()
    if locator is None:
        return 0
    batch = locator.locate_many([r[1] for r in rows], [r[2] for r in rows])
    lowest = max(locator.levels)
    moved = [
        Component(pk=pk, unit_grid=code or "")
        for (pk, _, _, old), code in zip(rows, batch.codes(lowest), strict=True)
        if (code or "") != old
    ]
    Component.objects.bulk_update(moved, ["unit_grid"], batch_size=BATCH)
    return len(moved)
