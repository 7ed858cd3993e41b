"""Reading and writing the tables clerks exchange: CSV (UTF-8 or a named encoding) and XLSX.

Imports collect every problem of every row before touching the database, so a bad file is
answered with one complete report and changes nothing. This module only turns bytes into
rows with their line numbers; each app validates the rows against its own rules.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes
from openpyxl import Workbook, load_workbook


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line in the file as the clerk sees it (header is row 1)
    field: str  # column name, or "" for the whole row / file
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        column = f"「{self.field}」" if self.field else ""
        return f"{where}{column}：{self.message}"


@dataclass
class ImportReport:
    """What an import found. ``ok`` is false as soon as one error exists."""

    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def add(self, row: int, field_name: str, message: str) -> None:
        self.errors.append(RowError(row, field_name, message))

    def summary(self) -> str:
        if self.errors:
            return f"发现 {len(self.errors)} 处错误，数据库未做任何修改。"
        return f"新增 {self.created} 条，更新 {self.updated} 条，未变 {self.unchanged} 条。"


class TableError(ValueError):
    """The file as a whole cannot be read (wrong format, encoding, no header)."""


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number, column -> text)


def _clean(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decode(data: bytes, encoding: str | None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise TableError(f"无法按 {encoding} 编码读取文件：{exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = from_bytes(data).best()
        named = guess.encoding if guess else "未知"
        line = data[: exc.start].count(b"\n") + 1  # Python 3.11 allows no backslash inside an f-string
        # Excel in a Chinese locale saves "CSV" as GBK; say so and how to fix it rather than
        # guessing and risking silently garbled names.
        raise TableError(
            f"文件不是 UTF-8 编码（第 {line} 行起无法解码，"
            f"推测为 {named}）。请在 Excel 中另存为“CSV UTF-8”，"
            f"或指定编码重新导入（例如 --encoding gbk）。"
        ) from exc


def read_table(
    source: Path | str | bytes, *, filename: str | None = None, encoding: str | None = None
) -> Table:
    """Read a CSV or XLSX file into a header and numbered rows of stripped text."""
    if isinstance(source, bytes):
        data, name = source, filename or "upload.csv"
    else:
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TableError(f"无法打开文件 {path}：{exc.strerror}") from exc
        name = filename or path.name
    if name.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data)
    if name.lower().endswith(".csv") or "." not in name:
        return _read_csv(_decode(data, encoding))
    raise TableError(f"不支持的文件类型：{name}。请使用 .csv 或 .xlsx。")


def _header(cells: Sequence[Any]) -> list[str]:
    header = [_clean(cell) for cell in cells]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise TableError("文件没有表头行。第一行应列出字段名。")
    seen: set[str] = set()
    for name in header:
        if not name:
            raise TableError("表头中有空白的列名。")
        if name in seen:
            raise TableError(f"表头中列名「{name}」重复。")
        seen.add(name)
    return header


def _read_csv(text: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader)
    except StopIteration:
        raise TableError("文件是空的。") from None
    except csv.Error as exc:
        raise TableError(f"CSV 格式错误：{exc}") from exc
    header = _header(first)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            row = {name: _clean(cells[i]) if i < len(cells) else "" for i, name in enumerate(header)}
            if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
                row["__extra__"] = "多出的列"
            rows.append((line, row))
    except csv.Error as exc:
        raise TableError(f"CSV 第 {reader.line_num} 行格式错误：{exc}") from exc
    return Table(header, rows)


def _read_xlsx(data: bytes) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TableError(f"无法读取 Excel 文件：{exc}") from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        header = _header(next(iterator))
    except StopIteration:
        raise TableError("Excel 第一张工作表是空的。") from None
    rows: list[tuple[int, dict[str, str]]] = []
    for line, cells in enumerate(iterator, start=2):
        if not any(_clean(c) for c in cells):
            continue
        rows.append(
            (line, {name: _clean(cells[i]) if i < len(cells) else "" for i, name in enumerate(header)})
        )
    workbook.close()
    return Table(header, rows)


def require_columns(table: Table, required: Iterable[str], report: ImportReport) -> bool:
    missing = [name for name in required if name not in table.header]
    if missing:
        report.add(1, "", "缺少必需的列：" + "、".join(missing))
        return False
    return True


def write_table(header: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> bytes:
    """Write rows as ``csv`` (UTF-8 with BOM so Excel opens Chinese text) or ``xlsx``."""
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue()
    raise ValueError(f"unknown table format {fmt!r}")
