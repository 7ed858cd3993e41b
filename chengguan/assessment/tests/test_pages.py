"""Pages, reports and who may see and do what."""

from __future__ import annotations

import datetime as dt
import io

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from chengguan.assessment import services
from chengguan.assessment.models import AssessmentRun, Measure, RunStatus

from .conftest import World, at
from .test_runs import march_cases


def logged_in(w: World, who: str) -> Client:
    client = Client()
    client.force_login(w.users[who])
    return client


def test_ranking_drill_and_explain(world: World) -> None:
    w = world
    march_cases(w)
    finding = w.finding(
        "Z1", w.t1, at("2026-03-03"), description="光明路新增彩钢房", responsible_person="张三"
    )
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    services.publish(run)
    client = logged_in(w, "inspector")  # any signed-in user reads a published run
    page = client.get(reverse("assessment:run", args=[run.pk]) + "?subject=territorial")
    assert page.status_code == 200
    text = page.content.decode()
    assert "东岭街道" in text and "assessment-chart" in text and "echarts.min.js" in text
    t1 = run.results.get(name="东岭街道")
    detail = client.get(reverse("assessment:result", args=[t1.pk])).content.decode()
    assert "光明路" not in detail and "Z1 新增违法建设" in detail and "-5.00" in detail
    line = t1.lines.get(finding=finding)
    explain = client.get(reverse("assessment:line", args=[line.pk])).content.decode()
    assert "光明路新增彩钢房" in explain and "张三" in explain and "日常巡查" in explain
    indicator_line = t1.lines.get(indicator="closure_rate")
    records = client.get(reverse("assessment:line", args=[indicator_line.pk])).content.decode()
    assert "共 5 条记录，其中 2 条计入分子" in records
    d1 = run.results.get(name="环卫中心")
    overdue = client.get(reverse("assessment:indicator", args=[d1.pk, "overdue"])).content.decode()
    assert "共 5 条记录，其中 2 条计入分子" in overdue


def test_drafts_are_for_assessors_and_publishing_freezes(world: World) -> None:
    w = world
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    assert logged_in(w, "inspector").get(reverse("assessment:run", args=[run.pk])).status_code == 404
    assessor = logged_in(w, "assessor")
    assert assessor.get(reverse("assessment:run", args=[run.pk])).status_code == 200
    assert logged_in(w, "inspector").post(reverse("assessment:publish", args=[run.pk])).status_code == 403
    assessor.post(reverse("assessment:publish", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED
    again = assessor.post(reverse("assessment:publish", args=[run.pk]), follow=True)
    assert "不能再发布" in again.content.decode()
    created = assessor.post(reverse("assessment:run_create"), {"kind": "month", "period": "2026-03"})
    assert created.status_code == 302
    assert AssessmentRun.objects.filter(period_start=dt.date(2026, 3, 1), version=2).exists()
    bad = assessor.post(reverse("assessment:run_create"), {"kind": "month", "period": "三月"}, follow=True)
    assert "无法识别的期间" in bad.content.decode()
    assert Client().get(reverse("assessment:index")).status_code == 302  # sign in first


def test_xlsx_and_pdf_reports(world: World) -> None:
    w = world
    march_cases(w)
    w.finding("Z1", w.t1, at("2026-03-03"))
    for month in (1, 2):
        services.publish(services.run_assessment("month", dt.date(2026, month, 1)))
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    client = logged_in(w, "assessor")
    response = client.get(reverse("assessment:xlsx", args=[run.pk]))
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == ["镇街排名", "部门排名"]
    sheet = book["镇街排名"]
    assert [c.value for c in sheet[3]][:6] == [1, "西苑街道", 100, 1, 0, 101]  # bonus: 10 × (1 − 0.9)
    assert sheet._charts  # the ranking bar chart
    assert book["追责措施"].max_row == 1 + Measure.objects.filter(run=run).count()
    pdf = client.get(reverse("assessment:pdf", args=[run.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert b"STSong-Light" in pdf.content and len(pdf.content) > 5000


def test_measures_page_and_follow_up(world: World) -> None:
    w = world
    w.finding("Z1", w.t1, at("2026-03-03"))
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    services.publish(run)
    measure = Measure.objects.get(run=run, kind="criticism")
    client = logged_in(w, "assessor")
    assert "零容忍通报批评" in client.get(reverse("assessment:measures")).content.decode()
    client.post(
        reverse("assessment:follow_up", args=[measure.pk]),
        {"body": "assessment_group", "to_status": "confirmed", "note": "已确认"},
    )
    measure.refresh_from_db()
    assert measure.status == "confirmed"
    refused = client.post(
        reverse("assessment:follow_up", args=[measure.pk]),
        {"body": "assessment_group", "to_status": "proposed", "note": "退回"},
        follow=True,
    )
    assert "不能改为" in refused.content.decode()
