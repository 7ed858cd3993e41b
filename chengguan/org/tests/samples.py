"""A small but realistic org chart of 赤峰市红山区 and its staff, as clerks would type it.

Children come before their parents and a brigade before its subdistrict on purpose: an
import must accept references to rows further down the file.
"""

# One unit per line reads like the spreadsheet it stands for, so long lines are kept here.
# ruff: noqa: E501

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from chengguan.core.tabular import write_table
from chengguan.org.models import FunctionalDomain
from chengguan.org.rules import STAFF_COLUMNS, UNIT_COLUMNS

# The nine functional domains the seed names for the comprehensive enforcement bureau.
DOMAINS = [
    ("sanitation", "市容环卫"),
    ("planning", "规划"),
    ("greening", "绿化"),
    ("municipal", "市政"),
    ("environment", "环保"),
    ("market", "市场监管"),
    ("traffic", "交通"),
    ("housing", "房产"),
    ("property", "物业"),
]

UNITS: list[list[str]] = [
    # 单位编码, 名称, 简称, 类型, 上级单位编码, 所属镇街编码, 职能领域, 城管委成员, 入格, 联系电话, 地址, 在用
    ["HS-ZD-XT", "红山区综合行政执法局西屯中队", "西屯中队", "执法中队", "HS-JU", "HS-JD-XT", "", "否", "是", "0476-8351201", "", "是"],
    ["HS-ZD-HMZ", "红山区综合行政执法局红庙子中队", "红庙子中队", "brigade", "HS-JU", "HS-Z-HMZ", "", "0", "1", "", "", "1"],
    ["HS-JU", "红山区综合行政执法局", "区执法局", "局", "HS-CGW", "", "市容环卫、规划、绿化、市政、环保、市场监管、交通、房产、物业", "是", "是", "0476-8330001转8001", "红山区昭乌达路", "是"],
    ["HS-CGW", "红山区城市管理委员会", "区城管委", "委员会", "", "", "", "是", "否", "12345", "", "是"],
    ["HS-JD-XT", "西屯街道办事处", "西屯街道", "街道", "HS-CGW", "", "市容环卫,绿化", "true", "true", "", "", "true"],
    ["HS-JD-YJ", "永巨街道办事处", "永巨街道", "subdistrict", "HS-CGW", "", "", "是", "是", "", "", "是"],
    ["HS-Z-HMZ", "红庙子镇人民政府", "红庙子镇", "镇", "HS-CGW", "", "", "是", "是", "", "", "是"],
    ["HS-C-HMZ01", "红庙子村", "", "村/社区", "HS-Z-HMZ", "HS-Z-HMZ", "", "否", "是", "", "", "是"],
    ["HS-BM-ZJ", "红山区住房和城乡建设局", "区住建局", "部门", "HS-CGW", "", "房产；物业", "是", "是", "0476-8222222", "", "是"],
    ["HS-BM-SJ", "红山区市场监督管理局", "区市监局", "department", "HS-CGW", "", "market", "是", "否", "", "", "是"],
    ["HS-GY-SW", "赤峰市自来水有限公司红山分公司", "自来水公司", "公用企业", "HS-CGW", "", "", "是", "否", "0476-96120", "", "否"],
]

STAFF: list[list[str]] = [
    # 工号, 姓名, 岗位, 所属单位编码, 手机号, 在岗, 登录账号
    ["XT0001", "张伟", "巡查员", "HS-ZD-XT", "13904761234", "是", ""],
    ["XT0002", "李娜", "协管员", "HS-JD-XT", "139 0476 1235", "是", ""],
    ["XT0003", "王强", "自行车协管员", "HS-JD-XT", "+86 13904761236", "否", ""],
    ["HMZ001", "刘洋", "officer", "HS-ZD-HMZ", "", "1", ""],
    ["JU0001", "陈静", "派遣员", "HS-JU", "15147612345", "是", "chenjing"],
    ["JU0002", "赵磊", "值班长", "HS-JU", "", "是", ""],
]


def table_bytes(columns: Sequence[str], rows: Sequence[Sequence[str]], fmt: str) -> bytes:
    return write_table(columns, rows, fmt)


def units_file(fmt: str = "csv", rows: Sequence[Sequence[str]] = UNITS) -> bytes:
    return table_bytes(UNIT_COLUMNS, rows, fmt)


def staff_file(fmt: str = "csv", rows: Sequence[Sequence[str]] = STAFF) -> bytes:
    return table_bytes(STAFF_COLUMNS, rows, fmt)


def gbk_csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """The same table as Excel in a Chinese locale saves it: GBK, CRLF, no BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("gbk")


def make_domains() -> None:
    # update_or_create: the product may ship these nine as data already.
    for order, (code, name) in enumerate(DOMAINS, start=1):
        FunctionalDomain.objects.update_or_create(name=name, defaults={"code": code, "order": order})


def with_cell(rows: Sequence[Sequence[str]], code: str, column: str, value: str, columns=UNIT_COLUMNS) -> list[list[str]]:
    """A copy of ``rows`` with one cell of the row whose first cell is ``code`` replaced."""
    index = list(columns).index(column)
    out = [list(row) for row in rows]
    for row in out:
        if row[0] == code:
            row[index] = value
    return out
