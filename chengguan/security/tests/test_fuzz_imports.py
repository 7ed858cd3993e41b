"""Hypothesis over every import a clerk runs: org units, staff, time limits, powers, holidays,
the assessment standard (items, weights, rules) and the grid.

Files are generated as CSV (UTF-8, UTF-8 with BOM, GBK with and without ``--encoding``,
UTF-16), as XLSX, or as bytes that are neither; headers are the real columns in any order
with some missing or invented, cells mix plausible values with any text and numbers. The
property: the command either imports or stops with a report (``CommandError``), never with
another exception; a refused file leaves every row count as it was; a dry run never writes
and agrees with the real run about whether the file is good.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from chengguan.assessment import indicators
from chengguan.assessment.models import Standard
from chengguan.assessment.rows import ITEM_COLUMNS, RULE_COLUMNS, WEIGHT_COLUMNS
from chengguan.calendar.rows import COLUMN_DATE, COLUMN_NAME, COLUMN_NOTE, COLUMN_SOURCE, COLUMN_WORKING
from chengguan.catalog.models import Category
from chengguan.catalog.rows import POWER_REQUIRED, TIME_LIMIT_LABELS
from chengguan.org.models import FunctionalDomain, OrgUnit
from chengguan.org.rules import STAFF_COLUMNS, UNIT_COLUMNS

pytestmark = pytest.mark.django_db

EXAMPLES = 40
FUZZED: dict[str, int] = {}
IMPORTED: dict[str, int] = {}

POWER_COLUMNS = (*POWER_REQUIRED.values(), "失效日期", "相关类别", "备注")
CALENDAR_COLUMNS = (COLUMN_DATE, COLUMN_WORKING, COLUMN_NAME, COLUMN_SOURCE, COLUMN_NOTE)

# Values that pass some checks, so generated rows reach the deeper rules and the writes.
PLAUSIBLE = [
    "",
    "T01",
    "BUR",
    "D01",
    "S001",
    "东岭街道",
    "示例区综合执法局",
    "subdistrict",
    "街道",
    "部门",
    "department",
    "brigade",
    "是",
    "否",
    "1",
    "0",
    "true",
    "2026-10-01",
    "2026/10/8",
    "2027-02-30",
    "事项",
    "部件",
    "06010",
    "事项06010",
    "处置",
    "handle",
    "立案",
    "A",
    "一般性",
    "8",
    "0.5",
    "-3",
    "1e309",
    "NaN",
    "inspector",
    "巡查员",
    "13912345678",
    "市容环卫",
    "零容忍",
    "六个零容忍",
    "routine",
    "town",
    "department",
    "扣分",
    "通报批评",
    "考评组",
    "=1+1",
    "'; DROP TABLE org_orgunit; --",
    "../../etc/passwd",
]

# One good row per import: tables made of these with a few cells changed reach the row rules
# and the writes, where purely random tables mostly stop at the header.
TEMPLATES: dict[tuple[str, ...], dict[str, str]] = {
    UNIT_COLUMNS: {"单位编码": "N01", "名称": "新建单位", "类型": "department", "上级单位编码": "BUR"},
    STAFF_COLUMNS: {"工号": "S900", "姓名": "新巡查员", "岗位": "inspector", "所属单位编码": "T01"},
    tuple(TIME_LIMIT_LABELS.values()): {
        "类型": "事项",
        "类别编码": "06010",
        "环节": "处置",
        "时限（工作时）": "8",
    },
    POWER_COLUMNS: {
        "事项编码": "P-1",
        "事项名称": "河道倾倒",
        "职能领域": "环保",
        "法律依据": "《某条例》第十条",
        "责任单位类型": "局",
        "生效日期": "2026-01-01",
    },
    CALENDAR_COLUMNS: {COLUMN_DATE: "2026-10-01", COLUMN_WORKING: "否", COLUMN_NAME: "国庆节"},
    ITEM_COLUMNS: {"编号": "N1", "层级": "常规", "条目": "新条目", "分值": "-1"},
    WEIGHT_COLUMNS: {"考评对象": "镇街", "指标": indicators.BY_SUBJECT["territorial"][0].code, "权重": "1"},
    RULE_COLUMNS: {
        "编号": "Z1",
        "名称": "通报",
        "触发条件": "得分低于",
        "分数线": "60",
        "追责措施": "通报批评",
        "跟进机构": "考评小组",
    },
}

cell_text = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=30),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@st.composite
def near_valid_tables(draw: st.DrawFn, columns: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    """The template row, half the time with one cell changed."""
    template = TEMPLATES[columns]
    header = list(columns)
    row = {name: template.get(name, "") for name in header}
    for name in draw(st.lists(st.sampled_from(header), max_size=1)):
        row[name] = draw(cell_text)
    return header, [[row[name] for name in header]]


@st.composite
def tables(draw: st.DrawFn, columns: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    if draw(st.booleans()):
        return draw(near_valid_tables(columns))
    header = draw(st.permutations(columns).map(list))
    keep = draw(st.integers(min_value=max(0, len(header) - 3), max_value=len(header)))
    header = header[:keep] + draw(st.lists(st.sampled_from(["备注2", "", "x", "名称"]), max_size=2))
    rows = draw(st.lists(st.lists(cell_text, min_size=len(header), max_size=len(header)), max_size=6))
    return header, rows


def to_csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def to_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for values in [header, *rows]:
        cells: list[Any] = []
        for value in values:
            text = ILLEGAL_CHARACTERS_RE.sub("", value)
            try:  # numbers as numbers, as Excel stores them
                cells.append(int(text) if text.lstrip("-").isdigit() and len(text) < 15 else text)
            except ValueError:
                cells.append(text)
        sheet.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@st.composite
def files(draw: st.DrawFn, columns: tuple[str, ...]) -> tuple[str, bytes, list[str]]:
    """(file name, bytes, extra command options)"""
    header, rows = draw(tables(columns))
    kind = draw(
        st.sampled_from(
            # Mostly what clerks send (UTF-8 CSV, XLSX), enough of the rest to matter.
            [
                "utf-8",
                "utf-8",
                "utf-8",
                "utf-8-sig",
                "xlsx",
                "xlsx",
                "gbk",
                "gbk-named",
                "utf-16",
                "junk",
                "junk-xlsx",
            ]
        )
    )
    if kind == "xlsx":
        return "table.xlsx", to_xlsx(header, rows), []
    if kind in ("junk", "junk-xlsx"):
        return ("table.xlsx" if kind == "junk-xlsx" else "table.csv"), draw(st.binary(max_size=200)), []
    text = to_csv(header, rows)
    if kind.startswith("gbk"):
        data = text.encode("gbk", errors="replace")
        return "table.csv", data, (["--encoding", "gbk"] if kind == "gbk-named" else [])
    return "table.csv", text.encode(kind, errors="surrogatepass"), []


def row_counts() -> dict[str, int]:
    labels = ("org", "catalog", "workcal", "assessment", "grid", "auth")
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in labels and not model._meta.proxy
    }


def run(command: str, *args: str) -> bool:
    """True when the command imported; False when it refused with its report."""
    try:
        call_command(command, *args, stdout=io.StringIO(), stderr=io.StringIO())
    except CommandError:
        return False
    return True


def check_import(name: str, command: Callable[[str], list[str]], data: tuple[str, bytes, list[str]]) -> None:
    filename, content, extra = data
    FUZZED[name] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / filename)
        Path(path).write_bytes(content)
        args = command(path) + extra
        before = row_counts()
        dry = run(*args, "--dry-run")
        assert row_counts() == before, "a dry run wrote to the database"
        real = run(*args)
        assert real == dry, "the dry run and the import disagree about the file"
        if real:
            IMPORTED[name] += 1
        else:
            assert row_counts() == before, "a refused import changed the database"


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.fixture
def registries(db: None) -> None:
    bureau = OrgUnit.objects.create(code="BUR", name="示例区综合执法局", kind="bureau")
    OrgUnit.objects.create(code="T01", name="东岭街道", kind="subdistrict", parent=bureau)
    OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department", parent=bureau)
    Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    Standard.objects.create(code="STD", version=1, name="考评标准")
    FunctionalDomain.objects.create(code="env", name="环保")


def fuzz(
    name: str, strategy: st.SearchStrategy[tuple[str, bytes, list[str]]], command: Callable[[str], list[str]]
) -> int:
    """Run the property over ``strategy``'s files; how many went through."""
    FUZZED[name] = IMPORTED[name] = 0

    @FUZZ
    @given(data=strategy)
    def examples(data: tuple[str, bytes, list[str]]) -> None:
        check_import(name, command, data)

    examples()
    return FUZZED[name]


def report(capsys: pytest.CaptureFixture[str], name: str, count: int) -> None:
    assert count >= EXAMPLES // 2, "hypothesis ran too few examples to mean anything"
    with capsys.disabled():
        print(
            f"\n[fuzz] {name}: {count} generated files ({IMPORTED[name]} imported, the rest refused with "
            f"a report), no unhandled exception; {sum(FUZZED.values())} files so far"
        )


def test_fuzz_org_import(registries: None, capsys: pytest.CaptureFixture[str]) -> None:
    report(capsys, "import_org", fuzz("import_org", files(UNIT_COLUMNS), lambda path: ["import_org", path]))


@pytest.mark.parametrize("create_users", [False, True])
def test_fuzz_staff_import(registries: None, capsys: pytest.CaptureFixture[str], create_users: bool) -> None:
    flags = ["--create-users"] if create_users else []
    name = f"import_staff{' --create-users' if create_users else ''}"
    report(capsys, name, fuzz(name, files(STAFF_COLUMNS), lambda path: ["import_staff", path, *flags]))


def test_fuzz_time_limits_import(registries: None, capsys: pytest.CaptureFixture[str]) -> None:
    columns = tuple(TIME_LIMIT_LABELS.values())
    count = fuzz("import_time_limits", files(columns), lambda path: ["import_time_limits", path])
    report(capsys, "import_time_limits", count)


def test_fuzz_powers_import(registries: None, capsys: pytest.CaptureFixture[str]) -> None:
    report(
        capsys,
        "import_powers",
        fuzz("import_powers", files(POWER_COLUMNS), lambda path: ["import_powers", path]),
    )


def test_fuzz_holidays_import(registries: None, capsys: pytest.CaptureFixture[str]) -> None:
    count = fuzz("import_holidays", files(CALENDAR_COLUMNS), lambda path: ["import_holidays", path])
    report(capsys, "import_holidays", count)


@pytest.mark.parametrize(
    ("option", "columns"), [("items", ITEM_COLUMNS), ("weights", WEIGHT_COLUMNS), ("rules", RULE_COLUMNS)]
)
def test_fuzz_assessment_standard_import(
    registries: None, capsys: pytest.CaptureFixture[str], option: str, columns: tuple[str, ...]
) -> None:
    name = f"assessment_import --{option}"
    count = fuzz(name, files(columns), lambda path: ["assessment_import", "STD", f"--{option}", path])
    report(capsys, name, count)


coordinate = st.one_of(
    st.floats(min_value=118.9, max_value=119.0),
    st.floats(min_value=42.2, max_value=42.3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(),
)
ring = st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=6).map(
    lambda points: [list(p) for p in points] + ([list(points[0])] if points else [])
)
geometry = st.one_of(
    st.fixed_dictionaries({"type": st.just("Polygon"), "coordinates": st.lists(ring, max_size=2)}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Point", "LineString", "Nonsense"]), "coordinates": st.just([1, 2])}
    ),
    st.none(),
)
feature = st.fixed_dictionaries(
    {
        "type": st.just("Feature"),
        "properties": st.dictionaries(
            st.sampled_from(["code", "name", "parent", "x"]), cell_text, max_size=4
        ),
        "geometry": geometry,
    }
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
geojson_files = st.one_of(
    st.lists(feature, max_size=4).map(
        lambda fs: json.dumps({"type": "FeatureCollection", "features": fs}).encode()
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


def test_fuzz_grid_import(registries: None, capsys: pytest.CaptureFixture[str]) -> None:
    count = fuzz(
        "grid_import",
        geojson_files.map(lambda content: ("level1.geojson", content, [])),
        lambda path: ["grid_import", "--level", f"1={path}", "--code-field", "code", "--name-field", "name"],
    )
    report(capsys, "grid_import", count)


COMMANDS: dict[tuple[str, ...], list[str]] = {
    UNIT_COLUMNS: ["import_org"],
    STAFF_COLUMNS: ["import_staff"],
    tuple(TIME_LIMIT_LABELS.values()): ["import_time_limits"],
    POWER_COLUMNS: ["import_powers"],
    CALENDAR_COLUMNS: ["import_holidays"],
    ITEM_COLUMNS: ["assessment_import", "STD", "--items"],
    WEIGHT_COLUMNS: ["assessment_import", "STD", "--weights"],
    RULE_COLUMNS: ["assessment_import", "STD", "--rules"],
}


@pytest.mark.parametrize("columns", list(TEMPLATES), ids=[COMMANDS[c][-1] for c in TEMPLATES])
def test_the_good_rows_the_fuzzing_starts_from_do_import(
    registries: None, tmp_path: Path, columns: tuple[str, ...]
) -> None:
    # Otherwise the near-valid tables would never reach the writes they are there to exercise.
    header = list(columns)
    path = tmp_path / "good.csv"
    path.write_text(to_csv(header, [[TEMPLATES[columns].get(name, "") for name in header]]), encoding="utf-8")
    before = row_counts()
    call_command(*COMMANDS[columns], str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert row_counts() != before
