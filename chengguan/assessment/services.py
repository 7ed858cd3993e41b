"""Writes for assessment: the standard, inspections and findings, runs, publication, measures.

Every rule about what may change lives here and is checked before writing: a published run is
frozen (its results, lines and measures' basis never change; a re-run is a new version with a
diff against the previous one), a standard used by a published run is read-only (copy it as a
new version), and a finding counted in a published run can no longer be edited.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from chengguan.assessment import accountability, indicators, rows, scoring, selectors
from chengguan.assessment.models import (
    AccountabilityRule,
    AssessmentRun,
    Finding,
    FindingCheck,
    FindingPhoto,
    FindingStatus,
    FrozenError,
    IndicatorWeight,
    Inspection,
    InspectionMode,
    LineSource,
    Measure,
    MeasureFollowUp,
    MeasureStatus,
    Result,
    RunStatus,
    ScoreLine,
    Standard,
    StandardItem,
    StandardStatus,
    Subject,
    Track,
)
from chengguan.assessment.periods import Period
from chengguan.core.tabular import ImportReport, TableError, read_table, require_columns
from chengguan.org.models import OrgUnit, Staff


class AssessmentError(Exception):
    """Bad input to an assessment service; the message is for the clerk."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------- the standard


def standard_locked(standard: Standard) -> bool:
    return standard.runs.filter(status__in=[RunStatus.PUBLISHED, RunStatus.SUPERSEDED]).exists()


def ensure_standard_editable(standard: Standard) -> None:
    if standard.pk is not None and standard_locked(standard):
        raise FrozenError(f"“{standard}”已用于已发布的考评结果，不能修改；请复制为新版本后修改。")


@transaction.atomic
def copy_standard(standard: Standard, *, name: str | None = None) -> Standard:
    """A new draft version with the same items, weights and rules (the way to change a used standard)."""
    latest = Standard.objects.filter(code=standard.code).aggregate(v=Max("version"))["v"] or 0
    new = Standard.objects.create(
        code=standard.code,
        version=latest + 1,
        name=name or standard.name,
        is_sample=standard.is_sample,
        status=StandardStatus.DRAFT,
        base_score=standard.base_score,
        grade_a=standard.grade_a,
        grade_b=standard.grade_b,
        grade_c=standard.grade_c,
        grade_d=standard.grade_d,
        recurrence_days=standard.recurrence_days,
        source=standard.source,
        note=standard.note,
    )
    for item in standard.items.prefetch_related("categories"):
        categories = list(item.categories.all())
        item.pk = None
        item.standard = new
        item.save()
        item.categories.set(categories)
    for weight in standard.weights.all():
        weight.pk = None
        weight.standard = new
        weight.save()
    for rule in standard.rules.all():
        rule.pk = None
        rule.standard = new
        rule.save()
    return new


@transaction.atomic
def activate_standard(standard: Standard) -> Standard:
    """Make this version the one runs use; the previously active one is retired."""
    Standard.objects.filter(status=StandardStatus.ACTIVE).exclude(pk=standard.pk).update(
        status=StandardStatus.RETIRED
    )
    standard.status = StandardStatus.ACTIVE
    if standard.effective_from is None:
        standard.effective_from = timezone.localdate()
    standard.save(update_fields=["status", "effective_from", "updated_at"])
    return standard


def _read(
    source: Path | str | bytes, filename: str | None, encoding: str | None, report: ImportReport
) -> Any:
    try:
        return read_table(source, filename=filename, encoding=encoding)
    except TableError as exc:
        report.add(0, "", str(exc))
        return None


def import_items(
    standard: Standard,
    source: Path | str | bytes,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
    drop_unknown_units: bool = False,
) -> ImportReport:
    """Create or update items by 编号 from a CSV/XLSX table; nothing is written if any row is wrong."""
    report = ImportReport()
    table = _read(source, filename, encoding, report)
    if table is None or not require_columns(table, rows.ITEM_REQUIRED, report):
        return report
    units = {u.code: u for u in OrgUnit.objects.all()}
    checked = rows.check_items(table, set(units), report, drop_unknown_units=drop_unknown_units)
    if not report.ok:
        return report
    existing = {i.code: i for i in standard.items.all()}
    changes: list[StandardItem] = []
    for row in checked:
        values = {
            "tier": row.tier,
            "title": row.title,
            "description": row.description,
            "points": row.points,
            "basis": row.basis,
            "measure_unit": row.measure_unit,
            "cap": row.cap,
            "track": row.track,
            "evidence_required": row.evidence_required,
            "supervisor_unit_id": units[row.supervisor_code].pk if row.supervisor_code else None,
            "order": row.order,
        }
        item = existing.get(row.code)
        if item is None:
            changes.append(StandardItem(standard=standard, code=row.code, **values))
            report.created += 1
        elif any(getattr(item, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(item, k, v)
            changes.append(item)
            report.updated += 1
        else:
            report.unchanged += 1
    _write(standard, changes, report, dry_run)
    return report


def import_weights(
    standard: Standard,
    source: Path | str | bytes,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    report = ImportReport()
    table = _read(source, filename, encoding, report)
    if table is None or not require_columns(table, rows.WEIGHT_REQUIRED, report):
        return report
    checked = rows.check_weights(table, report)
    if not report.ok:
        return report
    existing = {(w.subject, w.indicator): w for w in standard.weights.all()}
    changes: list[IndicatorWeight] = []
    for row in checked:
        values = {"weight": row.weight, "target": row.target, "points": row.points, "min_base": row.min_base}
        weight = existing.get((row.subject, row.indicator))
        if weight is None:
            changes.append(
                IndicatorWeight(standard=standard, subject=row.subject, indicator=row.indicator, **values)
            )
            report.created += 1
        elif any(getattr(weight, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(weight, k, v)
            changes.append(weight)
            report.updated += 1
        else:
            report.unchanged += 1
    _write(standard, changes, report, dry_run)
    return report


def import_rules(
    standard: Standard,
    source: Path | str | bytes,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    report = ImportReport()
    table = _read(source, filename, encoding, report)
    if table is None or not require_columns(table, rows.RULE_REQUIRED, report):
        return report
    checked = rows.check_rules(table, report)
    if not report.ok:
        return report
    existing = {r.code: r for r in standard.rules.all()}
    changes: list[AccountabilityRule] = []
    for row in checked:
        values = {
            "name": row.name,
            "trigger": row.trigger,
            "tier": row.tier,
            "streak_min": row.streak_min,
            "streak_max": row.streak_max,
            "threshold": row.threshold,
            "subject": row.subject,
            "measure": row.measure,
            "follow_up_body": row.body,
            "active": row.active,
            "order": row.order,
            "note": row.note,
        }
        rule = existing.get(row.code)
        if rule is None:
            changes.append(AccountabilityRule(standard=standard, code=row.code, **values))
            report.created += 1
        elif any(getattr(rule, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(rule, k, v)
            changes.append(rule)
            report.updated += 1
        else:
            report.unchanged += 1
    _write(standard, changes, report, dry_run)
    return report


def _write(standard: Standard, changes: Sequence[Any], report: ImportReport, dry_run: bool) -> None:
    if dry_run or not changes:
        return
    if standard_locked(standard):
        report.add(0, "", f"“{standard}”已用于已发布的考评结果，不能修改；请复制为新版本后再导入。")
        report.created = report.updated = 0
        return
    with transaction.atomic():
        for obj in changes:
            obj.save()


# ---------------------------------------------------------------- inspections and findings


@dataclass
class InspectionInput:
    mode: str
    title: str
    inspecting_unit: OrgUnit
    date: dt.date
    inspected_unit: OrgUnit | None = None
    lead_inspector: Staff | None = None
    members: str = ""
    note: str = ""


def validate_inspection(data: InspectionInput) -> None:
    if data.mode not in InspectionMode.values:
        raise AssessmentError(f"未知的检查方式“{data.mode}”。", "mode")
    if not data.title.strip():
        raise AssessmentError("请填写检查名称。", "title")
    if data.mode in {InspectionMode.SELF, InspectionMode.CROSS} and data.inspected_unit is None:
        raise AssessmentError("属地自查和对调互查须指定被检查单位。", "inspected_unit")
    if data.mode == InspectionMode.SELF and data.inspected_unit != data.inspecting_unit:
        raise AssessmentError("属地自查的检查单位与被检查单位应为同一单位。", "inspected_unit")
    if data.mode == InspectionMode.CROSS:
        if data.inspected_unit == data.inspecting_unit:
            raise AssessmentError("对调互查须由另一单位检查。", "inspected_unit")
        if (
            data.inspected_unit is not None
            and data.inspected_unit.kind != data.inspecting_unit.kind
            and not (data.inspected_unit.is_territory and data.inspecting_unit.is_territory)
        ):
            raise AssessmentError("对调互查在同类单位之间进行（镇街互查或部门互查）。", "inspected_unit")


def record_inspection(data: InspectionInput, user: Any = None) -> Inspection:
    validate_inspection(data)
    return Inspection.objects.create(
        mode=data.mode,
        title=data.title.strip(),
        inspecting_unit=data.inspecting_unit,
        inspected_unit=data.inspected_unit,
        lead_inspector=data.lead_inspector,
        members=data.members.strip(),
        date=data.date,
        note=data.note.strip(),
        created_by=user if getattr(user, "pk", None) else None,
    )


@dataclass
class FindingInput:
    item: StandardItem
    found_at: dt.datetime
    unit: OrgUnit | None = None  # defaults to the inspected unit
    quantity: Decimal = Decimal(1)
    description: str = ""
    address: str = ""
    lat: float | None = None
    lon: float | None = None
    grid_code: str = ""
    responsible_person: str = ""
    supervisor_unit: OrgUnit | None = None
    rectify_by: dt.date | None = None
    create_case: bool = False
    case_category: Any = None  # catalog.Category; defaults to the item's first category
    photos: Sequence[Any] = field(default_factory=list)  # cases.forms.CheckedPhoto
    repeat_of: Finding | None = None


def track_of(unit: OrgUnit) -> str | None:
    if unit.kind in selectors.TERRITORY_KINDS:
        return Track.TERRITORIAL
    if unit.kind in selectors.DEPARTMENT_KINDS:
        return Track.DEPARTMENTAL
    return None


def validate_finding(inspection: Inspection, data: FindingInput) -> OrgUnit:
    """The unit the finding is charged to, or :class:`AssessmentError` naming the bad field."""
    unit = data.unit or inspection.inspected_unit
    if unit is None:
        raise AssessmentError("请指定责任单位。", "unit")
    track = track_of(unit)
    if track is None:
        raise AssessmentError("责任单位应为镇街或部门（执法中队的问题计入其所属镇街）。", "unit")
    if data.item.track not in (Track.BOTH, track):
        raise AssessmentError(
            f"条目“{data.item.title}”只适用于{data.item.get_track_display()}，不适用于“{unit.name}”。", "item"
        )
    if data.item.standard.status == StandardStatus.RETIRED:
        raise AssessmentError("该条目所属的考评标准已停用。", "item")
    if data.quantity <= 0:
        raise AssessmentError("数量应大于 0。", "quantity")
    # A few minutes of slack: a phone's clock may run slightly ahead of the server's.
    if data.found_at > timezone.now() + dt.timedelta(minutes=10):
        raise AssessmentError("发现时间不能晚于当前时间。", "found_at")
    if (data.lat is None) != (data.lon is None):
        raise AssessmentError("经纬度必须同时填写。", "lat")
    if data.lat is not None and not (-90 <= data.lat <= 90 and -180 <= data.lon <= 180):  # type: ignore[operator]
        raise AssessmentError("经纬度超出范围。", "lat")
    if inspection.mode == InspectionMode.FOLLOW_UP and data.repeat_of is None:
        raise AssessmentError("追踪督查发现的问题应指向被督查的原问题（或使用督查记录）。", "repeat_of")
    return unit


def record_finding(inspection: Inspection, data: FindingInput, user: Any = None) -> Finding:
    """A finding with its photos and, if asked, a case reported through the case workflow."""
    from chengguan.cases import services as cases

    unit = validate_finding(inspection, data)
    grid_code = data.grid_code.strip()
    if data.lat is not None and not grid_code:
        where = cases.locate(data.lat, data.lon)
        if where is not None:
            grid_code = where.unit_grid
    with transaction.atomic():
        case = None
        if data.create_case:
            category = data.case_category or data.item.categories.first()
            if category is None:
                raise AssessmentError("该条目未关联案件类别，请选择立案类别。", "case_category")
            try:
                case = cases.report(
                    cases.ReportInput(
                        category=category,
                        description=f"【考评{inspection.get_mode_display()}】{data.item.title}：{data.description}".strip(
                            "："
                        ),
                        channel="patrol",
                        lat=data.lat,
                        lon=data.lon,
                        address=data.address or unit.name,
                        reporter_staff=inspection.lead_inspector,
                        reporter_user=user if getattr(user, "pk", None) else None,
                        territory=unit if unit.is_territory else None,
                        tags=["assessment"],
                        at=data.found_at,
                    )
                )
            except cases.CaseError as exc:
                raise AssessmentError(str(exc), exc.field) from exc
        finding = Finding.objects.create(
            inspection=inspection,
            item=data.item,
            unit=unit,
            quantity=data.quantity,
            found_at=data.found_at,
            description=data.description.strip(),
            address=data.address.strip(),
            lat=data.lat,
            lon=data.lon,
            grid_code=grid_code,
            responsible_person=data.responsible_person.strip(),
            supervisor_unit=data.supervisor_unit,
            case=case,
            rectify_by=data.rectify_by,
            repeat_of=data.repeat_of,
        )
        attach_photos(finding, data.photos)
    return finding


def attach_photos(finding: Finding, photos: Sequence[Any]) -> list[FindingPhoto]:
    """Store photos already checked by ``check_image`` (type by content, size, pixels).

    The original is kept as evidence; an EXIF-free copy is written beside it once, which is
    what the pages show (``uploads.public_name``).
    """
    from chengguan.security import uploads

    stored = []
    for photo in photos:
        row = FindingPhoto(
            finding=finding,
            token=secrets.token_hex(16),
            extension=photo.extension,
            content_type=photo.content_type,
            size=photo.upload.size or 0,
            original_name=uploads.safe_filename(photo.upload.name or "", default="photo")[:200],
        )
        row.file.save(f"{row.token}{row.extension}", photo.upload, save=False)
        uploads.store_public_copy(row.file.storage, row.file.name, photo.upload)
        row.save()
        stored.append(row)
    return stored


def finding_locked(finding: Finding) -> bool:
    return ScoreLine.objects.filter(
        finding=finding, result__run__status__in=[RunStatus.PUBLISHED, RunStatus.SUPERSEDED]
    ).exists()


def ensure_finding_editable(finding: Finding) -> None:
    if finding.pk is not None and finding_locked(finding):
        raise FrozenError("该问题已计入已发布的考评结果，不能修改；如需更正，请录入更正记录后重新计算。")


def record_check(
    inspection: Inspection,
    finding: Finding,
    result: str,
    *,
    note: str = "",
    at: dt.datetime | None = None,
    penalize: bool = True,
) -> FindingCheck:
    """A follow-up (追踪督查) on an earlier finding; not put right → optionally a repeat finding."""
    if inspection.mode != InspectionMode.FOLLOW_UP:
        raise AssessmentError("督查记录须属于追踪督查。", "inspection")
    if result not in FindingStatus.values or result == FindingStatus.OPEN:
        raise AssessmentError("督查结果应为已整改或未整改。", "result")
    at = at or timezone.now()
    if at < finding.found_at:
        raise AssessmentError("督查时间不能早于发现时间。", "at")
    with transaction.atomic():
        check = FindingCheck.objects.create(
            inspection=inspection, finding=finding, result=result, note=note.strip(), checked_at=at
        )
        Finding.objects.filter(pk=finding.pk).update(status=result)
        finding.status = result
        if result == FindingStatus.NOT_RECTIFIED and penalize:
            Finding.objects.create(
                inspection=inspection,
                item=finding.item,
                unit=finding.unit,
                quantity=finding.quantity,
                found_at=at,
                description=f"追踪督查未整改：{finding.description}"[:4000],
                address=finding.address,
                lat=finding.lat,
                lon=finding.lon,
                grid_code=finding.grid_code,
                responsible_person=finding.responsible_person,
                supervisor_unit=finding.supervisor_unit,
                repeat_of=finding,
            )
    return check


# ---------------------------------------------------------------- runs


@dataclass
class LineData:
    source: str
    points: Decimal
    raw: Decimal
    label: str
    formula: str
    key: str
    item_id: int | None = None
    finding_id: int | None = None
    indicator: str = ""
    tier: str = ""


@dataclass
class ResultData:
    subject: str
    key: str
    name: str
    unit_id: int | None = None
    staff_id: int | None = None
    values: dict[str, indicators.Value] = field(default_factory=dict)
    composite: Decimal | None = None
    lines: list[LineData] = field(default_factory=list)
    total: scoring.Total | None = None
    grade: str = ""
    rank: int = 0


def _grades(standard: Standard) -> scoring.Grades:
    return scoring.Grades(standard.grade_a, standard.grade_b, standard.grade_c, standard.grade_d)


def compute(
    standard: Standard, period: Period, findings: list[dict[str, Any]] | None = None
) -> list[ResultData]:
    """Every subject's indicators, lines, score, grade and rank for one period (reads only)."""
    w = selectors.Window.of(period, standard.recurrence_days)
    weights: dict[str, list[IndicatorWeight]] = defaultdict(list)
    for weight in standard.weights.all():
        weights[weight.subject].append(weight)
    department = selectors.case_counts("departmental", w)
    territory = selectors.case_counts("territorial", w)
    grids = selectors.grid_counts()
    posts, unit_events = selectors.event_counts(w)
    reports = selectors.case_counts("inspector", w)
    if findings is None:
        findings = selectors.findings_in(w)

    results: list[ResultData] = []
    for subject, units in selectors.subject_units().items():
        for unit in units:
            if subject == Subject.DEPARTMENTAL:
                counts: dict[str, Any] = {**department.get(unit.pk, {}), **unit_events.get(unit.code, {})}
            else:
                counts = {**territory.get(unit.pk, {}), **grids.get(unit.pk, {})}
            results.append(
                _subject_result(subject, f"unit:{unit.pk}", unit.name, counts, weights, unit_id=unit.pk)
            )

    users = {staff_user for staff_user in posts}
    for staff in selectors.staff_for(set(reports), users):
        post = selectors.POST_OF_ROLE.get(staff.role)
        if post is None:
            continue
        counts = dict(posts.get(staff.user_id, {})) if staff.user_id else {}
        if post == Subject.INSPECTOR:
            counts.update(reports.get(staff.pk, {}))
        if not any(counts.values()):
            continue
        results.append(
            _subject_result(post, f"staff:{staff.pk}", staff.name, counts, weights, staff_id=staff.pk)
        )

    by_unit: dict[int, ResultData] = {r.unit_id: r for r in results if r.unit_id is not None}
    _finding_lines(findings, by_unit)

    base = standard.base_score
    grades = _grades(standard)
    by_subject: dict[str, list[ResultData]] = defaultdict(list)
    for r in results:
        r.total = scoring.total(base, (line.points for line in r.lines))
        r.grade = scoring.grade(r.total.score, grades)
        by_subject[r.subject].append(r)
    for members in by_subject.values():
        ranks = scoring.rank({r.key: r.total.score for r in members if r.total})
        for r in members:
            r.rank = ranks[r.key]
    return results


def _subject_result(
    subject: str,
    key: str,
    name: str,
    counts: dict[str, Any],
    weights: dict[str, list[IndicatorWeight]],
    *,
    unit_id: int | None = None,
    staff_id: int | None = None,
) -> ResultData:
    values = indicators.evaluate_all(subject, counts)
    result = ResultData(subject, key, name, unit_id=unit_id, staff_id=staff_id, values=values)
    result.composite = indicators.composite(
        subject, {w.indicator: w.weight for w in weights[subject]}, values
    )
    for weight in weights[subject]:
        indicator = indicators.lookup(subject, weight.indicator)
        value = values.get(weight.indicator)
        if indicator is None or value is None:
            continue
        got = indicators.indicator_points(value, weight.points, weight.target, weight.min_base)
        if got is None:
            continue
        result.lines.append(
            LineData(
                LineSource.INDICATOR,
                got.points,
                got.points,
                f"{indicator.name}（{indicator.formula}）",
                got.formula,
                f"indicator:{indicator.code}",
                indicator=indicator.code,
            )
        )
    return result


def _finding_lines(findings: list[dict[str, Any]], by_unit: dict[int, ResultData]) -> None:
    grouped: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        if f["unit_id"] in by_unit:
            grouped[(f["unit_id"], f["item_id"])].append(f)
    for (unit_id, _item_id), group in grouped.items():
        raw = [indicators.q2(f["item__points"] * f["quantity"]) for f in group]
        capped = scoring.apply_cap(raw, group[0]["item__cap"])
        for f, line in zip(group, capped, strict=True):
            by_unit[unit_id].lines.append(
                LineData(
                    LineSource.FINDING,
                    line.points,
                    line.raw,
                    f"{f['item__code']} {f['item__title']}",
                    scoring.finding_formula(
                        f["item__points"], f["quantity"], f["item__measure_unit"], line.points, line.capped
                    ),
                    f"finding:{f['id']}",
                    item_id=f["item_id"],
                    finding_id=f["id"],
                    tier=f["item__tier"],
                )
            )


def _indicator_json(subject: str, values: dict[str, indicators.Value]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for indicator in indicators.BY_SUBJECT[subject]:
        value = values[indicator.code]
        out[indicator.code] = {**value.as_json(), "shown": value.shown(indicator.kind)}
    return out


@transaction.atomic
def run_assessment(
    kind: str,
    day: dt.date,
    *,
    standard: Standard | None = None,
    user: Any = None,
    note: str = "",
) -> AssessmentRun:
    """Compute one period as a new version (the first, or a re-run with a diff against the last)."""
    started = time.perf_counter()
    period = Period.of(kind, day)
    standard = standard or selectors.active_standard()
    if standard is None:
        raise AssessmentError("没有在用的考评标准：请先在后台启用一个考评标准（演示数据附带示例标准）。")
    if period.start > timezone.localdate():
        raise AssessmentError("不能计算尚未开始的考评期间。")
    previous = (
        AssessmentRun.objects.select_for_update()
        .filter(period_kind=kind, period_start=period.start)
        .order_by("-version")
        .first()
    )
    findings = selectors.findings_in(selectors.Window.of(period, standard.recurrence_days))
    computed = compute(standard, period, findings)
    run = AssessmentRun.objects.create(
        standard=standard,
        period_kind=kind,
        period_start=period.start,
        period_end=period.end,
        version=(previous.version + 1) if previous else 1,
        previous=previous,
        created_by=user if getattr(user, "pk", None) else None,
        note=note,
    )
    results = Result.objects.bulk_create(
        [
            Result(
                run=run,
                subject=r.subject,
                unit_id=r.unit_id,
                staff_id=r.staff_id,
                name=r.name[:100],
                base=r.total.base,
                bonus=r.total.bonus,
                penalty=r.total.penalty,
                score=r.total.score,
                composite=r.composite,
                grade=r.grade,
                rank=r.rank,
                indicators=_indicator_json(r.subject, r.values),
            )
            for r in computed
            if r.total is not None
        ],
        batch_size=500,
    )
    ids = {(res.subject, res.subject_key): res.pk for res in results}
    _insert_lines(
        [
            (
                ids[(r.subject, r.key)],
                line.source,
                line.points,
                line.raw,
                line.label[:200],
                line.formula[:300],
                line.item_id,
                line.finding_id,
                line.indicator,
                line.tier,
            )
            for r in computed
            for line in r.lines
        ]
    )
    _propose_measures(run, standard, period, computed, findings)
    if previous is not None:
        run.diff = {
            "previous": previous.pk,
            "previous_version": previous.version,
            **diff_runs(previous, computed),
        }
        if previous.status == RunStatus.DRAFT:
            AssessmentRun.objects.filter(pk=previous.pk).update(status=RunStatus.SUPERSEDED)
    run.elapsed_ms = int((time.perf_counter() - started) * 1000)
    run.save(update_fields=["diff", "elapsed_ms", "updated_at"])
    return run


LINE_COLUMNS = (
    "result_id",
    "source",
    "points",
    "raw_points",
    "label",
    "formula",
    "item_id",
    "finding_id",
    "indicator",
    "tier",
)


def _insert_lines(rows: list[tuple[Any, ...]]) -> None:
    """Score lines in one executemany: thousands of rows without building a model per row."""
    if not rows:
        return
    table = connection.ops.quote_name(ScoreLine._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in LINE_COLUMNS)
    marks = ", ".join(["%s"] * len(LINE_COLUMNS))
    adapt = connection.ops.adapt_decimalfield_value
    prepared = [(r[0], r[1], adapt(r[2], 10, 2), adapt(r[3], 10, 2), *r[4:]) for r in rows]
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", prepared)


def snapshots_of(run: AssessmentRun) -> list[scoring.ResultSnapshot]:
    lines: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for result_id, finding_id, indicator, points in ScoreLine.objects.filter(result__run=run).values_list(
        "result_id", "finding_id", "indicator", "points"
    ):
        key = f"finding:{finding_id}" if finding_id else f"indicator:{indicator}"
        lines[result_id][key] = points
    return [
        scoring.ResultSnapshot(r.subject, r.subject_key, r.name, r.score, r.rank, lines.get(r.pk, {}))
        for r in run.results.all()
    ]


def diff_runs(previous: AssessmentRun, computed: list[ResultData]) -> dict[str, Any]:
    new = [
        scoring.ResultSnapshot(
            r.subject, r.key, r.name, r.total.score, r.rank, {line.key: line.points for line in r.lines}
        )
        for r in computed
        if r.total is not None
    ]
    return scoring.diff(snapshots_of(previous), new)


def _propose_measures(
    run: AssessmentRun,
    standard: Standard,
    period: Period,
    computed: list[ResultData],
    findings: list[dict[str, Any]],
) -> None:
    rules = [
        accountability.RuleSpec(
            r.code,
            r.name,
            r.trigger,
            r.measure,
            r.follow_up_body,
            r.tier,
            r.streak_min,
            r.streak_max,
            r.threshold,
            r.subject,
        )
        for r in standard.rules.filter(active=True).order_by("order", "code")
    ]
    if not rules:
        return
    rule_ids = {r.code: r.pk for r in standard.rules.all()}
    by_unit = {r.unit_id: r for r in computed if r.unit_id is not None}
    facts = []
    for f in findings:
        owner = by_unit.get(f["unit_id"])
        if owner is None:
            continue
        supervisor_id = f["supervisor_unit_id"] or f["item__supervisor_unit_id"]
        supervisor_name = f["supervisor_unit__name"] or f["item__supervisor_unit__name"] or ""
        facts.append(
            accountability.FindingFact(
                f["id"],
                owner.subject,
                owner.key,
                owner.name,
                f["item__tier"],
                f"{f['item__code']} {f['item__title']}",
                f["responsible_person"],
                f"unit:{supervisor_id}" if supervisor_id else "",
                supervisor_name,
            )
        )
    lasts: dict[str, set[str]] = defaultdict(set)
    by_subject: dict[str, dict[str, int]] = defaultdict(dict)
    for r in computed:
        by_subject[r.subject][r.key] = r.rank
    for subject, ranks in by_subject.items():
        lasts[subject] = scoring.last_places(ranks)
    results = [
        accountability.ResultFact(r.subject, r.key, r.name, r.total.score, r.rank, r.key in lasts[r.subject])
        for r in computed
        if r.total is not None
    ]
    history, history_runs = last_place_history(period)
    proposals = accountability.evaluate(rules, facts, results, history, history_runs)
    Measure.objects.bulk_create(
        [
            Measure(
                run=run,
                rule_id=rule_ids[p.rule],
                kind=p.measure,
                subject=p.subject,
                unit_id=int(p.key.split(":")[1]) if p.key.startswith("unit:") else None,
                staff_id=int(p.key.split(":")[1]) if p.key.startswith("staff:") else None,
                party=p.party,
                person=p.person[:50],
                reason=p.reason,
                finding_id=p.finding_id,
                refs=dict(p.refs),
                follow_up_body=p.body,
            )
            for p in proposals
        ]
    )


def last_place_history(
    period: Period, depth: int = 12
) -> tuple[dict[tuple[str, str], list[bool]], list[int]]:
    """For each subject member: was it last in each earlier consecutive period (published runs only)?"""
    history: dict[tuple[str, str], list[bool]] = defaultdict(list)
    run_ids: list[int] = []
    current = period
    for _ in range(depth):
        current = current.previous()
        run = (
            AssessmentRun.objects.filter(
                period_kind=period.kind, period_start=current.start, status=RunStatus.PUBLISHED
            )
            .order_by("-version")
            .first()
        )
        if run is None:
            break
        run_ids.append(run.pk)
        ranks: dict[str, dict[str, int]] = defaultdict(dict)
        for r in run.results.all():
            ranks[r.subject][r.subject_key] = r.rank
        for subject, members in ranks.items():
            last = scoring.last_places(members)
            for key in members:
                history[(subject, key)].append(key in last)
    # A member absent from an earlier run breaks its streak there: pad to equal length is not
    # needed because streak() stops at the first False or the end of the list.
    return history, run_ids


@transaction.atomic
def publish(run: AssessmentRun, user: Any = None) -> AssessmentRun:
    """Publish a draft run: it becomes frozen; an earlier published version of the period is superseded."""
    run = AssessmentRun.objects.select_for_update().get(pk=run.pk)
    if run.status != RunStatus.DRAFT:
        raise FrozenError("该考评结果已发布或已被取代，不能再发布。")
    newer = AssessmentRun.objects.filter(
        period_kind=run.period_kind, period_start=run.period_start, version__gt=run.version
    ).exists()
    if newer:
        raise AssessmentError("已有更新的计算版本，请发布最新版本。")
    older = AssessmentRun.objects.filter(
        period_kind=run.period_kind, period_start=run.period_start, status=RunStatus.PUBLISHED
    ).exclude(pk=run.pk)
    now = timezone.now()
    for old in older:
        for measure in old.measures.filter(status=MeasureStatus.PROPOSED):
            _follow(
                measure,
                measure.follow_up_body,
                MeasureStatus.WITHDRAWN,
                f"考评结果已由 v{run.version} 取代",
                user,
                now,
            )
    older.update(status=RunStatus.SUPERSEDED)
    run.status = RunStatus.PUBLISHED
    run.published_at = now
    run.published_by = user if getattr(user, "pk", None) else None
    run.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    return run


def ensure_run_editable(run: AssessmentRun) -> None:
    if run.frozen:
        raise FrozenError("考评结果已发布，不能修改；请重新计算生成新版本。")


@transaction.atomic
def discard_draft(run: AssessmentRun) -> None:
    """Delete a draft run (never a published one)."""
    ensure_run_editable(run)
    Measure.objects.filter(run=run).delete()
    ScoreLine.objects.filter(result__run=run).delete()
    Result.objects.filter(run=run).delete()
    run.delete()


# ---------------------------------------------------------------- measures

MEASURE_FLOW: dict[str, set[str]] = {
    MeasureStatus.PROPOSED: {MeasureStatus.CONFIRMED, MeasureStatus.WITHDRAWN},
    MeasureStatus.CONFIRMED: {MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, MeasureStatus.WITHDRAWN},
    MeasureStatus.IN_PROGRESS: {MeasureStatus.DONE},
    MeasureStatus.DONE: set(),
    MeasureStatus.WITHDRAWN: set(),
}


def _follow(
    measure: Measure, body: str, to_status: str, note: str, user: Any, at: dt.datetime
) -> MeasureFollowUp:
    entry = MeasureFollowUp.objects.create(
        measure=measure,
        body=body,
        from_status=measure.status,
        to_status=to_status,
        note=note,
        by=user if getattr(user, "pk", None) else None,
        at=at,
    )
    Measure.objects.filter(pk=measure.pk).update(status=to_status, updated_at=at)
    measure.status = to_status
    return entry


@transaction.atomic
def follow_up(
    measure: Measure, body: str, to_status: str, note: str, user: Any = None, at: dt.datetime | None = None
) -> MeasureFollowUp:
    """One of the three bodies records a step on a measure (confirm, start, complete, withdraw)."""
    measure = Measure.objects.select_for_update().select_related("run").get(pk=measure.pk)
    if measure.run.status == RunStatus.DRAFT:
        raise AssessmentError("考评结果尚未发布，追责措施只是预案，发布后才能跟进。")
    if body not in {b for b, _label in rows.BODIES}:
        raise AssessmentError("请选择跟进机构。", "body")
    if to_status not in MEASURE_FLOW.get(measure.status, set()) and to_status != measure.status:
        raise AssessmentError(
            f"措施当前为“{MeasureStatus(measure.status).label}”，不能改为“{MeasureStatus(to_status).label}”。",
            "to_status",
        )
    if not note.strip():
        raise AssessmentError("请填写跟进说明。", "note")
    return _follow(measure, body, to_status, note.strip(), user, at or timezone.now())


def follow_up_finding(
    finding: Finding,
    inspecting_unit: OrgUnit,
    day: dt.date,
    result: str,
    *,
    note: str = "",
    penalize: bool = True,
    lead_inspector: Staff | None = None,
    user: Any = None,
    at: dt.datetime | None = None,
) -> FindingCheck:
    """A 追踪督查 of one earlier finding: the follow-up inspection and its check, both or neither.

    The follow-up inspects the unit the finding was charged to; "not put right" also records a
    repeat finding (penalised again in the period of the check) unless ``penalize`` is off.
    """
    if finding.status == FindingStatus.RECTIFIED:
        raise AssessmentError("该问题已确认整改，无需再督查。", "finding")
    if day < finding.found_at.astimezone(timezone.get_current_timezone()).date():
        raise AssessmentError("督查日期不能早于问题发现日期。", "date")
    if day > timezone.localdate():
        raise AssessmentError("督查日期不能晚于今天。", "date")
    data = InspectionInput(
        mode=InspectionMode.FOLLOW_UP,
        title=f"追踪督查：{finding.item.title}"[:100],
        inspecting_unit=inspecting_unit,
        inspected_unit=finding.unit,
        date=day,
        lead_inspector=lead_inspector,
        note=note,
    )
    if at is None and day != timezone.localdate():
        # A check entered later is dated on the day of the visit (noon), so its repeat finding
        # falls in that day's assessment period.
        at = dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())
    with transaction.atomic():
        inspection = record_inspection(data, user)
        return record_check(inspection, finding, result, note=note, at=at, penalize=penalize)


def pending_findings(unit: OrgUnit) -> Any:
    """Open findings of a unit (what a follow-up inspection should look at)."""
    return Finding.objects.filter(unit=unit).filter(
        Q(status=FindingStatus.OPEN) | Q(status=FindingStatus.NOT_RECTIFIED)
    )
