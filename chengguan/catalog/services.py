"""Writes to the catalogue: loading the shipped data, importing a bureau's own tables.

Every entry point reads and checks everything first and writes in one transaction only when
nothing was wrong, so a bad file leaves the database as it was.

``catalog_load`` is idempotent: a second run writes nothing. National fields (code, names,
major class) always follow the shipped catalogue; local fields (domain, criteria, tier, time
limits, powers …) follow the shipped samples only where the bureau has not changed them,
unless ``reset_local`` is given (see ``merge.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from chengguan.catalog import shipped as files
from chengguan.catalog.defaults import (
    SETTING_FIELDS,
    duplicate_limits,
    duplicate_scopes,
    resolve_limits,
    resolve_settings,
)
from chengguan.catalog.limits import limit_key
from chengguan.catalog.merge import merge
from chengguan.catalog.models import Category, LegacyCode, MatchMethod, PowerItem, TimeLimit
from chengguan.catalog.rows import (
    POWER_COLUMNS,
    POWER_REQUIRED,
    TIME_LIMIT_COLUMNS,
    TIME_LIMIT_REQUIRED,
    PowerRecord,
    TimeLimitRecord,
    check_power_rows,
    check_time_limit_rows,
    map_columns,
    missing_columns,
)
from chengguan.catalog.selectors import category_keys, domain_lookup
from chengguan.core.progress import Progress
from chengguan.core.tabular import ImportReport, Table, TableError, read_table
from chengguan.org.models import FunctionalDomain, UnitKind

PARTS = ("categories", "legacy", "settings", "limits", "powers")
PART_LABELS = {
    "domains": "职能领域",
    "categories": "部件事项类别",
    "legacy": "2013 版编码对照",
    "settings": "本地示例设置",
    "limits": "环节时限",
    "powers": "权责清单",
}


def _unit_kinds() -> list[tuple[str, str]]:
    """(value, label) with the lazy labels made plain text for the plain rules module."""
    return [(value, str(label)) for value, label in UnitKind.choices]


POWER_FIELDS = (
    "name",
    "domain",
    "legal_basis",
    "responsible_unit_kind",
    "effective_to",
    "categories",
    "note",
)


class CatalogDataError(ValueError):
    """The shipped files (or the database they build on) are not fit to load; nothing written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class PartReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0  # rows where a local edit was kept although the shipped sample differs

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        text = f"新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条"
        if self.kept:
            text += f"（其中保留本地修改 {self.kept} 条）"
        return text


@dataclass
class LoadReport:
    parts: dict[str, PartReport] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(part.changed for part in self.parts.values())

    @property
    def created(self) -> int:
        return sum(part.created for part in self.parts.values())

    @property
    def updated(self) -> int:
        return sum(part.updated for part in self.parts.values())

    def lines(self) -> list[str]:
        return [f"{PART_LABELS[name]}：{part.summary()}" for name, part in self.parts.items()]

    def summary(self) -> str:
        if not self.changed:
            return "目录数据与发布文件一致，全部未变。"
        return f"载入完成：新增 {self.created} 条，更新 {self.updated} 条。"


# ----------------------------------------------------------------------------------------
# Reading and checking the shipped files


@dataclass
class _Shipped:
    catalog: list[files.CatalogEntry]
    domains: list[files.DomainEntry]
    crosswalk: list[files.CrosswalkRow]
    settings: list[files.SettingsRow]
    limits: list[files.LimitSample]
    powers: list[PowerRecord]
    domain_target: dict[str, str]  # shipped domain code -> code of the row it will use


def _domain_targets(domains: Sequence[files.DomainEntry]) -> dict[str, str]:
    """Which database row each shipped domain will use: same code, else same name, else new."""
    by_code = set(FunctionalDomain.objects.values_list("code", flat=True))
    by_name = dict(FunctionalDomain.objects.values_list("name", "code"))
    return {d.code: d.code if d.code in by_code else by_name.get(d.name, d.code) for d in domains}


def _check_scopes(
    name: str, scopes: Iterable[tuple[int, files.Scope]], catalog: Collection[files.CatalogEntry]
) -> list[str]:
    keys = {(e.kind, e.code) for e in catalog}
    majors = {(e.kind, e.major_code) for e in catalog}
    problems = []
    for line, scope in scopes:
        code, kinds = scope.code, [scope.kind] if scope.kind else ["component", "matter"]
        known = keys if len(code) == 5 else majors
        if code and not any((kind, code) in known for kind in kinds):
            problems.append(f"{name} 第 {line} 行：{scope.label()} 在目录中不存在")
    return problems


def _read_shipped(data_dir: Path, parts: Collection[str], db_categories: set[tuple[str, str]]) -> _Shipped:
    problems: list[str] = []
    catalog, found = files.read_catalog(data_dir)
    problems += found
    domains, found = files.read_domains(data_dir)
    problems += found
    crosswalk: list[files.CrosswalkRow] = []
    settings: list[files.SettingsRow] = []
    limits: list[files.LimitSample] = []
    power_rows: list[tuple[int, dict[str, str]]] = []
    if "legacy" in parts:
        crosswalk, found = files.read_crosswalk(data_dir)
        problems += found
    if "settings" in parts:
        settings, found = files.read_settings(data_dir)
        problems += found
    if "limits" in parts:
        limits, found = files.read_limits(data_dir)
        problems += found
    if "powers" in parts:
        power_rows, found = files.read_power_rows(data_dir)
        problems += found
    if not catalog:  # nothing else can be checked without the catalogue
        raise CatalogDataError(problems or [f"{files.CATALOG_FILE} 中没有类别"])

    domain_codes = {d.code for d in domains}
    available = db_categories | ({(e.kind, e.code) for e in catalog} if "categories" in parts else set())
    if parts != {"categories"} and not available:
        problems.append(
            "数据库中还没有部件事项类别，请先载入类别（chengguan load-catalog --only categories）。"
        )
    problems += _check_scopes(files.SETTINGS_FILE, ((r.line, r.scope) for r in settings), catalog)
    problems += _check_scopes(files.LIMITS_FILE, ((r.line, r.scope) for r in limits), catalog)
    for line, scope in duplicate_scopes(settings):
        problems.append(f"{files.SETTINGS_FILE} 第 {line} 行：{scope.label()} 与前面的行重复")
    for sample in duplicate_limits(limits):
        problems.append(
            f"{files.LIMITS_FILE} 第 {sample.line} 行：与前面的行是同一范围、环节、区域和处置类型"
        )
    for setting in settings:
        domain = setting.values.get("domain")
        if domain and domain not in domain_codes:
            problems.append(
                f"{files.SETTINGS_FILE} 第 {setting.line} 行：职能领域 {domain} 不在 {files.DOMAINS_FILE} 中"
            )
    for item in crosswalk:
        if item.new_code and (item.new_kind, item.new_code) not in available:
            problems.append(
                f"{files.CROSSWALK_FILE}：{item.old.code} 对应的 {item.new_kind} {item.new_code} 不存在"
            )

    targets = _domain_targets(domains)
    powers: list[PowerRecord] = []
    if power_rows:
        columns, _clashes = map_columns(list(power_rows[0][1]), POWER_COLUMNS)
        lookup = {**domain_lookup(), **targets}
        powers, errors = check_power_rows(
            power_rows, columns, domains=lookup, unit_kinds=_unit_kinds(), known_categories=available
        )
        problems += [f"{files.POWERS_FILE} {error}" for error in errors]
    if problems:
        raise CatalogDataError(problems)
    return _Shipped(catalog, domains, crosswalk, settings, limits, powers, targets)


# ----------------------------------------------------------------------------------------
# Loading


def catalog_load(
    *,
    parts: Iterable[str] = PARTS,
    reset_local: bool = False,
    data_dir: Path = files.DATA_DIR,
    progress: Progress | None = None,
) -> LoadReport:
    """Load the shipped catalogue, crosswalk, sample settings, time limits and powers list."""
    selected = set(parts)
    unknown = selected - set(PARTS)
    if unknown:
        raise CatalogDataError([f"未知的载入部分：{'、'.join(sorted(unknown))}；可选：{'、'.join(PARTS)}"])
    data = _read_shipped(data_dir, selected, category_keys())
    report = LoadReport()
    with transaction.atomic():
        if selected & {"settings", "powers"}:
            report.parts["domains"] = _load_domains(data.domains)
        for name in PARTS:
            if name not in selected:
                continue
            with progress.stage(f"载入{PART_LABELS[name]}") if progress else nullcontext():
                if name == "categories":
                    report.parts[name] = _load_categories(data.catalog)
                elif name == "legacy":
                    report.parts[name] = _load_legacy(data.crosswalk, reset_local)
                elif name == "settings":
                    report.parts[name] = _load_settings(data.settings, data.domain_target, reset_local)
                elif name == "limits":
                    report.parts[name] = _load_limits(data.limits, reset_local)
                else:
                    report.parts[name] = _write_powers(data.powers, snapshot=True, reset=reset_local)
    return report


# The demo builder (chengguan.demo) looks the loader up under the command's name.
load_catalog = catalog_load


def _load_domains(domains: Sequence[files.DomainEntry]) -> PartReport:
    """Create the seed's functional domains that are missing; never rename a bureau's."""
    report = PartReport()
    codes = set(FunctionalDomain.objects.values_list("code", flat=True))
    names = set(FunctionalDomain.objects.values_list("name", flat=True))
    for entry in domains:
        if entry.code in codes or entry.name in names:
            report.unchanged += 1
            continue
        FunctionalDomain.objects.create(
            code=entry.code, name=entry.name, order=entry.order, description=entry.description
        )
        report.created += 1
    return report


NATIONAL_FIELDS = ("major_code", "major_name", "name", "standard")


def _load_categories(catalog: Sequence[files.CatalogEntry]) -> PartReport:
    report = PartReport()
    existing = {(c.kind, c.code): c for c in Category.objects.all()}
    new: list[Category] = []
    changed: list[Category] = []
    now = timezone.now()
    for entry in catalog:
        values = {
            "major_code": entry.major_code,
            "major_name": entry.major_name,
            "name": entry.name,
            "standard": entry.standard,
        }
        row = existing.get((entry.kind, entry.code))
        if row is None:
            new.append(Category(kind=entry.kind, code=entry.code, **values))
            continue
        if all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
            continue
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
        changed.append(row)
    Category.objects.bulk_create(new)
    Category.objects.bulk_update(changed, [*NATIONAL_FIELDS, "updated_at"])
    report.created, report.updated = len(new), len(changed)
    return report


def _category_ref(category: Category | None) -> str:
    return f"{category.kind}:{category.code}" if category else ""


def _load_legacy(crosswalk: Sequence[files.CrosswalkRow], reset: bool) -> PartReport:
    report = PartReport()
    categories = {_category_ref(c): c for c in Category.objects.all()}
    existing = {(r.kind, r.code): r for r in LegacyCode.objects.select_related("category")}
    defaults = {"category": "", "match": MatchMethod.UNMATCHED.value, "note": ""}
    for item in crosswalk:
        kind = "component" if item.old.kind == "component" else "matter"
        national = {"name": item.old.name, "major_name": item.old.major_name}
        ref = f"{item.new_kind}:{item.new_code}" if item.new_code else ""
        local = {"category": ref, "match": item.match, "note": item.note}
        row = existing.get((kind, item.old.code))
        if row is None:
            LegacyCode.objects.create(
                kind=kind,
                code=item.old.code,
                category=categories.get(ref),
                match=item.match,
                note=item.note,
                shipped=local,
                **national,
            )
            report.created += 1
            continue
        current = {"category": _category_ref(row.category), "match": row.match, "note": row.note}
        result = merge(current, {**defaults, **row.shipped}, local, reset=reset)
        dirty = [k for k, v in national.items() if getattr(row, k) != v]
        for key in dirty:
            setattr(row, key, national[key])
        for key, value in result.changes.items():
            if key == "category":
                row.category = categories.get(value)
            else:
                setattr(row, key, value)
        snapshot_moved = row.shipped != local
        row.shipped = local
        fields = [*dirty, *result.changes, *(["shipped"] if snapshot_moved else [])]
        if fields:
            row.save(update_fields=fields)
        if dirty or result.changed:
            report.updated += 1
        else:
            report.unchanged += 1
        report.kept += bool(result.kept)
    return report


def _settings_now(category: Category, domain_codes: Mapping[int, str]) -> dict[str, Any]:
    now: dict[str, Any] = {name: getattr(category, name) for name in SETTING_FIELDS if name != "domain"}
    now["domain"] = domain_codes.get(category.domain_id, "") if category.domain_id else ""
    return now


def _pristine_settings() -> dict[str, Any]:
    """A category's local fields as they are before anyone set them (the model defaults)."""
    pristine: dict[str, Any] = {"domain": ""}
    for name in SETTING_FIELDS:
        if name != "domain":
            model_field = Category._meta.get_field(name)
            assert isinstance(model_field, models.Field)
            pristine[name] = model_field.get_default()
    return pristine


def _load_settings(
    rows: Sequence[files.SettingsRow], domain_target: Mapping[str, str], reset: bool
) -> PartReport:
    report = PartReport()
    domains = {d.code: d for d in FunctionalDomain.objects.all()}
    domain_codes = {d.pk: d.code for d in domains.values()}
    pristine = _pristine_settings()
    changed: list[Category] = []
    changed_fields: set[str] = set()
    snapshot_only: list[Category] = []
    now = timezone.now()
    for category in Category.objects.all():
        target = resolve_settings(rows, category.kind, category.code)
        if "domain" in target:
            target["domain"] = domain_target.get(target["domain"], target["domain"])
        applied = category.shipped.get("settings")
        base = {**pristine, **(applied or {})}
        result = merge(_settings_now(category, domain_codes), base, target, reset=reset)
        for key, value in result.changes.items():
            if key == "domain":
                category.domain = domains[value] if value else None
            else:
                setattr(category, key, value)
            changed_fields.add(key)
        moved = applied != target
        if moved:
            category.shipped = {**category.shipped, "settings": target}
        if result.changed:
            category.updated_at = now
            changed.append(category)
            report.updated += 1
        else:
            report.unchanged += 1
            if moved:
                snapshot_only.append(category)
        report.kept += bool(result.kept)
    if changed:
        Category.objects.bulk_update(changed, [*sorted(changed_fields), "shipped", "updated_at"])
    if snapshot_only:
        Category.objects.bulk_update(snapshot_only, ["shipped"])
    return report


def _hours_text(hours: Decimal) -> str:
    return str(hours.quantize(Decimal("0.01")))


def _load_limits(rows: Sequence[files.LimitSample], reset: bool) -> PartReport:
    report = PartReport()
    by_category: dict[int, dict[str, TimeLimit]] = {}
    for limit in TimeLimit.objects.all():
        by_category.setdefault(limit.category_id, {})[
            limit_key(limit.step, limit.area_class, limit.work_kind)
        ] = limit
    new: list[TimeLimit] = []
    changed: list[TimeLimit] = []
    snapshots: list[Category] = []
    now = timezone.now()
    for category in Category.objects.all():
        target: dict[str, list[str]] = {}
        for sample in resolve_limits(rows, category.kind, category.code):
            key = limit_key(sample.step, sample.area_class, sample.work_kind)
            target[key] = [_hours_text(sample.hours), sample.source]
        have = by_category.get(category.pk, {})
        current = {key: [_hours_text(row.hours), row.source] for key, row in have.items()}
        applied = category.shipped.get("time_limits")
        result = merge(current, applied or {}, target, reset=reset)
        for key, (hours, source) in result.changes.items():
            step, area_class, work_kind = key.split("|")
            row = have.get(key)
            if row is None:
                new.append(
                    TimeLimit(
                        category=category,
                        step=step,
                        area_class=area_class,
                        work_kind=work_kind,
                        hours=Decimal(hours),
                        source=source,
                    )
                )
                report.created += 1
            else:
                row.hours, row.source, row.updated_at = Decimal(hours), source, now
                changed.append(row)
                report.updated += 1
        report.kept += len(result.kept)
        report.unchanged += len(target) - len(result.changes) - len(result.kept)
        if applied != target:
            category.shipped = {**category.shipped, "time_limits": target}
            snapshots.append(category)
    TimeLimit.objects.bulk_create(new)
    TimeLimit.objects.bulk_update(changed, ["hours", "source", "updated_at"])
    Category.objects.bulk_update(snapshots, ["shipped"])
    return report


# ----------------------------------------------------------------------------------------
# Powers list (shared by the loader and the bureau's import)


def _power_values(record: PowerRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "domain": record.domain,
        "legal_basis": record.legal_basis,
        "responsible_unit_kind": record.responsible_unit_kind,
        "effective_to": record.effective_to.isoformat() if record.effective_to else "",
        "categories": [f"{kind}:{code}" for kind, code in record.categories],
        "note": record.note,
    }


def _power_now(item: PowerItem, category_refs: Sequence[str]) -> dict[str, Any]:
    return {
        "name": item.name,
        "domain": item.domain.code,
        "legal_basis": item.legal_basis,
        "responsible_unit_kind": item.responsible_unit_kind,
        "effective_to": item.effective_to.isoformat() if item.effective_to else "",
        "categories": sorted(category_refs),
        "note": item.note,
    }


def _write_powers(records: Sequence[PowerRecord], *, snapshot: bool, reset: bool) -> PartReport:
    """Upsert versions by (code, effective_from).

    The loader (``snapshot``) merges with the bureau's edits; an import is the bureau's own
    word and overwrites.
    """
    report = PartReport()
    domains = {d.code: d for d in FunctionalDomain.objects.all()}
    categories = {_category_ref(c): c for c in Category.objects.all()}
    existing = {(p.code, p.effective_from): p for p in PowerItem.objects.select_related("domain")}
    refs: dict[int, list[str]] = {}
    through = PowerItem.categories.through.objects.select_related("category")
    for link in through:
        refs.setdefault(link.poweritem_id, []).append(_category_ref(link.category))
    for record in records:
        values = _power_values(record)
        item = existing.get((record.code, record.effective_from))
        if item is None:
            item = PowerItem(code=record.code, effective_from=record.effective_from)
            _apply_power(item, values, values.keys(), domains, categories)
            if snapshot:
                item.shipped = values
            item.save()
            item.categories.set([categories[ref] for ref in values["categories"]])
            report.created += 1
            continue
        current = _power_now(item, refs.get(item.pk, []))
        if snapshot:
            result = merge(current, item.shipped, values, reset=reset)
            changes = result.changes
            report.kept += bool(result.kept)
        else:
            changes = {k: v for k, v in values.items() if current[k] != v}
        moved = snapshot and item.shipped != values
        if not changes and not moved:
            report.unchanged += 1
            continue
        _apply_power(item, changes, changes.keys(), domains, categories)
        if moved:
            item.shipped = values
        scalar = [k for k in changes if k != "categories"]
        if changes:
            item.save(update_fields=[*scalar, *(["shipped"] if moved else []), "updated_at"])
            report.updated += 1
        else:
            item.save(update_fields=["shipped"])
            report.unchanged += 1
    return report


def _apply_power(
    item: PowerItem,
    values: Mapping[str, Any],
    keys: Iterable[str],
    domains: Mapping[str, FunctionalDomain],
    categories: Mapping[str, Category],
) -> None:
    for key in list(keys):
        value = values[key]
        if key == "domain":
            item.domain = domains[value]
        elif key == "effective_to":
            item.effective_to = dt.date.fromisoformat(value) if value else None
        elif key == "categories":
            if item.pk:
                item.categories.set([categories[ref] for ref in value])
        else:
            setattr(item, key, value)


# ----------------------------------------------------------------------------------------
# A bureau's own files


def _read(
    source: Path | str | bytes, filename: str | None, encoding: str | None, report: ImportReport
) -> Table | None:
    try:
        return read_table(source, filename=filename, encoding=encoding)
    except TableError as exc:
        report.add(0, "", str(exc))
        return None


def time_limits_import(
    source: Path | str | bytes,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Set time limits from a bureau's CSV/XLSX table; all rows or none.

    A row names the category (类型 + 类别编码), the step, optionally the area class and the
    kind of work, and the hours; an existing limit with the same keys is updated.
    """
    report = ImportReport()
    table = _read(source, filename, encoding, report)
    if table is None:
        return report
    columns, clashes = map_columns(table.header, TIME_LIMIT_COLUMNS)
    for name in clashes:
        report.add(1, name, "与另一列表示同一字段，请删去其中一列")
    missing = missing_columns(columns, TIME_LIMIT_REQUIRED)
    if missing:
        report.add(1, "", "缺少必需的列：" + "、".join(missing))
    if not report.ok:
        return report
    records, errors = check_time_limit_rows(table.rows, columns, category_keys())
    report.errors.extend(errors)
    if not table.rows:
        report.add(0, "", "文件中没有数据行")
    if not report.ok:
        return report
    name = filename or (Path(source).name if not isinstance(source, bytes) else "上传文件")
    with transaction.atomic():
        _write_time_limits(records, f"本局导入（{name}）", report)
        if dry_run:  # count what would change inside the transaction, then roll it back
            transaction.set_rollback(True)
    return report


def _write_time_limits(records: Sequence[TimeLimitRecord], default_source: str, report: ImportReport) -> None:
    categories = {(c.kind, c.code): c for c in Category.objects.all()}
    wanted = {categories[(r.kind, r.code)].pk for r in records}
    existing = {
        (t.category_id, t.step, t.area_class, t.work_kind): t
        for t in TimeLimit.objects.filter(category_id__in=wanted)
    }
    now = timezone.now()
    new: list[TimeLimit] = []
    changed: list[TimeLimit] = []
    for record in records:
        category = categories[(record.kind, record.code)]
        source = record.source or default_source
        row = existing.get((category.pk, record.step, record.area_class, record.work_kind))
        if row is None:
            new.append(
                TimeLimit(
                    category=category,
                    step=record.step,
                    area_class=record.area_class,
                    work_kind=record.work_kind,
                    hours=record.hours,
                    source=source,
                )
            )
        elif row.hours != record.hours or row.source != source:
            row.hours, row.source, row.updated_at = record.hours, source, now
            changed.append(row)
        else:
            report.unchanged += 1
    TimeLimit.objects.bulk_create(new)
    TimeLimit.objects.bulk_update(changed, ["hours", "source", "updated_at"])
    report.created += len(new)
    report.updated += len(changed)


def powers_import(
    source: Path | str | bytes,
    *,
    filename: str | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Add or update powers-list versions from a bureau's CSV/XLSX table; all rows or none.

    A version is keyed by 事项编码 + 生效日期: a new 生效日期 adds a version, the old one
    stays for the cases decided under it.
    """
    report = ImportReport()
    table = _read(source, filename, encoding, report)
    if table is None:
        return report
    columns, clashes = map_columns(table.header, POWER_COLUMNS)
    for name in clashes:
        report.add(1, name, "与另一列表示同一字段，请删去其中一列")
    missing = missing_columns(columns, POWER_REQUIRED)
    if missing:
        report.add(1, "", "缺少必需的列：" + "、".join(missing))
    if not report.ok:
        return report
    records, errors = check_power_rows(
        table.rows,
        columns,
        domains=domain_lookup(),
        unit_kinds=_unit_kinds(),
        known_categories=category_keys(),
    )
    report.errors.extend(errors)
    if not table.rows:
        report.add(0, "", "文件中没有数据行")
    if not report.ok:
        return report
    with transaction.atomic():
        part = _write_powers(records, snapshot=False, reset=False)
        if dry_run:
            transaction.set_rollback(True)
    report.created, report.updated, report.unchanged = part.created, part.updated, part.unchanged
    return report
