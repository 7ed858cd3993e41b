"""The monthly assessment as XLSX (openpyxl) and as PDF with charts (reportlab).

The PDF uses reportlab's built-in CID font STSong-Light for Chinese, so no system font is
needed; charts (ranking bars, trend lines) are drawn with reportlab's own graphics.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from chengguan.assessment import indicators, selectors
from chengguan.assessment.models import AssessmentRun, Measure, Result, ScoreLine, Subject

FONT = "STSong-Light"


def _subjects(run: AssessmentRun) -> list[tuple[str, str, list[Result]]]:
    return [(value, label, selectors.ranking(run, value)) for value, label, _n in selectors.subjects_of(run)]


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def xlsx(run: AssessmentRun) -> bytes:
    """One sheet per ranking (with a bar chart), then every score line, indicator and measure."""
    book = Workbook()
    book.remove(book.worksheets[0])
    bold = Font(bold=True)
    for value, label, ranking in _subjects(run):
        sheet = book.create_sheet(f"{label[:20]}排名")
        sheet.append([f"{run.period_label} {label}考评排名（v{run.version}，{run.get_status_display()}）"])
        sheet["A1"].font = Font(bold=True, size=13)
        codes = [i for i in indicators.BY_SUBJECT[value]]
        header = [
            "名次",
            "名称",
            "基础分",
            "加分",
            "扣分",
            "得分",
            "等级",
            "综合指标值",
            *[i.name for i in codes],
        ]
        sheet.append(header)
        for cell in sheet[2]:
            cell.font = bold
        for r in ranking:
            shown = [r.indicators.get(i.code, {}).get("shown", "") for i in codes]
            sheet.append(
                [
                    r.rank,
                    r.name,
                    _num(r.base),
                    _num(r.bonus),
                    _num(-r.penalty),
                    _num(r.score),
                    r.grade,
                    _num(r.composite),
                    *shown,
                ]
            )
        sheet.column_dimensions["B"].width = 24
        if ranking:
            chart = BarChart()
            chart.type = "bar"
            chart.title = f"{label}得分"
            chart.y_axis.title = "得分"
            data = Reference(sheet, min_col=6, min_row=2, max_row=2 + len(ranking))
            names = Reference(sheet, min_col=2, min_row=3, max_row=2 + len(ranking))
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(names)
            chart.height = max(7.5, 0.5 * len(ranking))
            chart.width = 18
            sheet.add_chart(chart, f"{_col(len(header) + 2)}2")

    lines = book.create_sheet("加扣分明细")
    lines.append(
        ["考评对象", "名称", "来源", "事项", "层级", "计算式", "封顶前分值", "分值", "检查发现编号", "指标"]
    )
    for cell in lines[1]:
        cell.font = bold
    for line in (
        ScoreLine.objects.filter(result__run=run)
        .select_related("result")
        .order_by("result__subject", "result__rank", "result__name", "id")
    ):
        lines.append(
            [
                line.result.get_subject_display(),
                line.result.name,
                line.get_source_display(),
                line.label,
                line.get_tier_display() if line.tier else "",
                line.formula,
                _num(line.raw_points),
                _num(line.points),
                line.finding_id,
                line.indicator,
            ]
        )
    lines.column_dimensions["D"].width = 36
    lines.column_dimensions["F"].width = 40

    measures = book.create_sheet("追责措施")
    measures.append(["措施", "考评对象", "单位/人员", "责任类型", "责任人", "事由", "跟进机构", "状态"])
    for cell in measures[1]:
        cell.font = bold
    for m in Measure.objects.filter(run=run).select_related("unit", "staff"):
        measures.append(
            [
                m.get_kind_display(),
                m.get_subject_display(),
                m.unit.name if m.unit else (m.staff.name if m.staff else ""),
                m.get_party_display(),
                m.person,
                m.reason,
                m.get_follow_up_body_display(),
                m.get_status_display(),
            ]
        )
    measures.column_dimensions["F"].width = 50
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _col(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _pdf_text(text: str) -> str:
    """STSong-Light (Adobe-GB1) has no U+2212 minus sign: write the ASCII hyphen-minus instead."""
    return text.replace("−", "-")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _ranking_chart(ranking: list[Result], label: str, width: float) -> Drawing:
    shown = ranking[:30]
    height = 40 + 14 * max(len(shown), 1)
    drawing = Drawing(width, height)
    drawing.add(
        String(width / 2, height - 14, f"{label}得分排名", fontName=FONT, fontSize=10, textAnchor="middle")
    )
    chart = HorizontalBarChart()
    chart.x, chart.y = 120, 20
    chart.width, chart.height = width - 160, height - 50
    scores = [float(r.score) for r in shown] or [0.0]
    chart.data = [list(reversed(scores))]
    chart.categoryAxis.categoryNames = list(reversed([r.name for r in shown])) or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    low = min(0.0, min(scores))
    chart.valueAxis.valueMin = low - 5 if low < 0 else 0
    chart.valueAxis.valueMax = max(scores) + 5
    chart.bars[0].fillColor = colors.HexColor("#0b5cad")
    chart.barLabelFormat = "%.2f"
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 12
    drawing.add(chart)
    return drawing


def _trend_chart(trend: dict[str, Any], label: str, width: float) -> Drawing | None:
    periods = trend["periods"]
    if len(periods) < 2:
        return None
    rows = [[None if v is None else float(v) for v in s["data"]] for s in trend["series"]]
    average, top, bottom = [], [], []
    for i in range(len(periods)):
        column: list[float] = [v for row in rows if (v := row[i]) is not None]
        average.append(sum(column) / len(column) if column else 0.0)
        top.append(max(column) if column else 0.0)
        bottom.append(min(column) if column else 0.0)
    drawing = Drawing(width, 190)
    drawing.add(
        String(
            width / 2,
            176,
            f"{label}得分趋势（最高、平均、最低）",
            fontName=FONT,
            fontSize=10,
            textAnchor="middle",
        )
    )
    chart = HorizontalLineChart()
    chart.x, chart.y = 50, 40
    chart.width, chart.height = width - 80, 120
    chart.data = [top, average, bottom]
    chart.categoryAxis.categoryNames = [p.replace(" ", "") for p in periods]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = min(bottom) - 5
    chart.valueAxis.valueMax = max(top) + 5
    palette = [colors.HexColor("#1b7f3a"), colors.HexColor("#0b5cad"), colors.HexColor("#b3261e")]
    for i, colour in enumerate(palette):
        chart.lines[i].strokeColor = colour
        chart.lines[i].strokeWidth = 1.5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 60, 14
    legend.fontName = FONT
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.colorNamePairs = list(zip(palette, ["最高", "平均", "最低"], strict=True))
    drawing.add(legend)
    return drawing


def pdf(run: AssessmentRun) -> bytes:
    """The monthly bulletin (考评通报): per ranking a bar chart, a trend chart and the table."""
    font = _font()
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    small = ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{run.period_label}城乡综合管理考评通报",
        author="Chengguan",
    )
    width = A4[0] - 30 * mm
    story: list[Any] = [
        Paragraph(f"{run.period_label}城乡综合管理考评通报", title),
        Paragraph(
            f"考评标准：{run.standard}；版本 v{run.version}（{run.get_status_display()}）；"
            "得分 = 基础分 + 加分 - 扣分，上不封顶、下不封底。",
            body,
        ),
    ]
    table_style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, 8),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef6")),
            ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#c8d0da")),
            ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
        ]
    )
    for index, (value, label, ranking) in enumerate(_subjects(run)):
        if index and value not in (Subject.DEPARTMENTAL,):
            story.append(PageBreak())
        story.append(Paragraph(f"{label}排名", heading))
        story.append(_ranking_chart(ranking, label, width))
        trend = _trend_chart(selectors.trend(run, value), label, width)
        if trend is not None:
            story.append(trend)
        rows = [["名次", "名称", "基础分", "加分", "扣分", "得分", "等级", "综合指标值"]]
        for r in ranking:
            rows.append(
                [
                    str(r.rank),
                    Paragraph(r.name, small),
                    str(r.base),
                    f"+{r.bonus}",
                    f"-{r.penalty}",
                    str(r.score),
                    r.grade,
                    "—" if r.composite is None else str(r.composite),
                ]
            )
        table = Table(
            rows,
            colWidths=[12 * mm, 52 * mm, 18 * mm, 18 * mm, 18 * mm, 20 * mm, 12 * mm, 22 * mm],
            repeatRows=1,
        )
        table.setStyle(table_style)
        story.append(table)
        story.append(Spacer(1, 4 * mm))
    measures = list(Measure.objects.filter(run=run).select_related("unit", "staff"))
    story.append(Paragraph("拟追责措施", heading))
    if measures:
        rows = [["措施", "对象", "事由", "跟进机构", "状态"]]
        for m in measures:
            who = m.unit.name if m.unit else (m.staff.name if m.staff else m.person)
            rows.append(
                [
                    m.get_kind_display(),
                    Paragraph(f"{who}（{m.get_party_display()}）", small),
                    Paragraph(_pdf_text(m.reason), small),
                    m.get_follow_up_body_display(),
                    m.get_status_display(),
                ]
            )
        table = Table(rows, colWidths=[20 * mm, 40 * mm, 80 * mm, 20 * mm, 18 * mm], repeatRows=1)
        table.setStyle(table_style)
        story.append(table)
    else:
        story.append(Paragraph("无。", body))
    doc.build(story)
    return out.getvalue()
