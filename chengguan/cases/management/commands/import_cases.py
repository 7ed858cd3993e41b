"""import_cases FILE: work orders handed over in a file (12345 hotline, camera/AI or drone
platforms) created as cases through the domain service, 500 at a time.

Unlike the registry imports this one is not all-or-nothing: each work order is a citizen's
or a sensor's report of its own, so a row with a bad value is refused with its row number
and the good rows are created (each exactly as ``services.report`` would create it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from chengguan.cases import services
from chengguan.cases.models import Channel
from chengguan.catalog.models import Category
from chengguan.core.progress import Progress
from chengguan.core.tabular import RowError, Table, TableError, read_table

BATCH = 500

# Column → the headings accepted for it (ours first, then what 12345 exports commonly use).
COLUMNS: dict[str, tuple[str, ...]] = {
    "工单编号": ("工单编号", "工单号"),
    "渠道": ("渠道", "来源"),
    "类别编码": ("类别编码",),
    "问题描述": ("问题描述", "诉求内容"),
    "纬度": ("纬度",),
    "经度": ("经度",),
    "地址": ("地址", "事发地址"),
    "联系人": ("联系人", "诉求人"),
    "联系电话": ("联系电话",),
    "上报时间": ("上报时间", "受理时间"),
}
REQUIRED = ("类别编码", "问题描述")
# The service names the field at fault; the clerk knows the column.
COLUMN_OF_FIELD = {
    "description": "问题描述",
    "channel": "渠道",
    "category": "类别编码",
    "lat": "纬度",
    "address": "地址",
    "citizen_name": "联系人",
    "citizen_phone": "联系电话",
}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
WORK_ORDER_TAG = "12345工单:"


class Command(BaseCommand):
    help = (
        "批量导入案件（12345 热线工单、视频/AI 或无人机识别结果等），CSV 或 XLSX。"
        "列：类别编码、问题描述（必填），渠道（默认 12345 热线）、纬度、经度、地址、联系人、联系电话、"
        "上报时间、工单编号。有错的行报告行号后跳过，其余行照常立案。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV 或 XLSX 文件")
        parser.add_argument("--encoding", help="CSV 的编码，例如 gbk（默认 UTF-8）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入数据库")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = Progress(cast(TextIO, self.stdout))  # OutputWrapper writes like a text stream
        try:
            table = read_table(options["file"], encoding=options["encoding"])
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        progress.step(f"读取 {options['file']}：{len(table.rows)} 行")
        columns = _columns(table)
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise CommandError("缺少必需的列：" + "、".join(missing))
        lines, inputs, errors = _parse(table, columns)
        created: list[str] = []
        if options["dry_run"]:
            refused = services.check_many(inputs)
            errors += [_row_error(lines[e.index], e) for e in refused]
        else:
            for start in range(0, len(inputs), BATCH):
                batch = services.report_many(inputs[start : start + BATCH])
                errors += [_row_error(lines[start + e.index], e) for e in batch.errors]
                created += batch.codes
                progress.step(
                    f"已处理 {min(start + BATCH, len(inputs))}/{len(inputs)} 行，立案 {len(created)} 件"
                )
        errors.sort(key=lambda e: e.row)
        for error in errors:
            self.stderr.write(str(error))
        if options["dry_run"]:
            good = len(table.rows) - len(errors)
            if errors:
                raise CommandError(f"检查发现 {len(errors)} 行有错误，{good} 行可导入；未写入数据库。")
            self.stdout.write(self.style.SUCCESS(f"检查通过（未写入）：{good} 行可导入。"))
            return
        if created:
            # Consecutive within a batch; another clerk's report between two batches takes a
            # number in between, hence first and last rather than a claim of one range.
            progress.step(f"立案 {len(created)} 件，编号 {created[0]} 至 {created[-1]}")
        if errors:
            raise CommandError(f"{len(errors)} 行被拒绝（见上），其余 {len(created)} 行已导入。")
        self.stdout.write(self.style.SUCCESS(f"导入完成：立案 {len(created)} 件。"))


def _columns(table: Table) -> dict[str, str]:
    """Our column name → the heading the file uses for it."""
    found: dict[str, str] = {}
    for name, headings in COLUMNS.items():
        for heading in headings:
            if heading in table.header:
                found[name] = heading
                break
    return found


def _channels() -> dict[str, str]:
    """A channel by its value or its Chinese label, spaces ignored (“12345热线”)."""
    with translation.override("zh-hans"):
        known = {str(label).replace(" ", ""): value for value, label in Channel.choices}
    known.update({value: value for value in Channel.values})
    return known


def _categories() -> dict[str, list[Category]]:
    by_code: dict[str, list[Category]] = {}
    for category in Category.objects.order_by("-active", "pk"):
        by_code.setdefault(category.code, []).append(category)
    return by_code


def _parse(
    table: Table, columns: dict[str, str]
) -> tuple[list[int], list[services.ReportInput], list[RowError]]:
    """Rows turned into report inputs (with their line numbers), or refused for a value the
    service cannot even be asked about (unknown category, a number or time that is not one)."""
    channels, categories = _channels(), _categories()
    now = timezone.now()
    lines: list[int] = []
    inputs: list[services.ReportInput] = []
    errors: list[RowError] = []
    seen_orders: dict[str, int] = {}
    for line, cells in table.rows:

        def cell(name: str, cells: dict[str, str] = cells) -> str:
            return cells.get(columns.get(name, ""), "")

        problems: list[RowError] = []
        channel_text = cell("渠道").replace(" ", "")
        channel = channels.get(channel_text, "") if channel_text else Channel.HOTLINE
        if not channel:
            problems.append(RowError(line, "渠道", f"未知的来源渠道“{channel_text}”。"))
        code = cell("类别编码")
        found = categories.get(code, [])
        if not found:
            problems.append(RowError(line, "类别编码", f"类别编码“{code}”不存在。"))
        lat, lon = (
            _number(line, "纬度", cell("纬度"), problems),
            _number(line, "经度", cell("经度"), problems),
        )
        reported_at = _time(line, cell("上报时间"), now, problems)
        order = cell("工单编号")
        if order and order in seen_orders:
            problems.append(RowError(line, "工单编号", f"工单编号与第 {seen_orders[order]} 行重复。"))
        if problems:
            errors += problems
            continue
        if order:
            seen_orders[order] = line
        name, phone = cell("联系人"), cell("联系电话")
        lines.append(line)
        inputs.append(
            services.ReportInput(
                category=found[0],
                description=cell("问题描述"),
                channel=channel,
                lat=lat,
                lon=lon,
                address=cell("地址"),
                citizen=services.CitizenInfo(name=name, phone=phone) if name or phone else None,
                tags=[f"{WORK_ORDER_TAG}{order}"] if order else [],
                at=reported_at,
            )
        )
    return lines, inputs, errors


def _number(line: int, column: str, text: str, problems: list[RowError]) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        problems.append(RowError(line, column, f"“{text}”不是有效的数字。"))
        return None


def _time(line: int, text: str, now: dt.datetime, problems: list[RowError]) -> dt.datetime | None:
    """The time the work order was taken (local time unless it says otherwise); empty: now."""
    if not text:
        return None
    parsed: dt.datetime | None = None
    for fmt in TIME_FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            problems.append(RowError(line, "上报时间", f"“{text}”不是有效的时间，请写成 2026-11-23 09:05。"))
            return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed > now:
        problems.append(RowError(line, "上报时间", "上报时间晚于当前时间。"))
        return None
    return parsed


def _row_error(line: int, error: services.InputError) -> RowError:
    return RowError(line, COLUMN_OF_FIELD.get(error.field, error.field), error.message)
