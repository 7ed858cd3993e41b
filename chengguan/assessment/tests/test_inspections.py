"""Inspections in the five modes, findings with photos and place, cases from findings, follow-ups."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chengguan.assessment import services
from chengguan.assessment.models import Finding, FindingStatus
from chengguan.cases.forms import check_photo
from chengguan.cases.models import Case

from .conftest import World, at


def jpeg(name: str = "现场.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def test_modes_check_who_inspects_whom(world: World) -> None:
    w = world
    make = services.InspectionInput
    day = dt.date(2026, 3, 10)
    with pytest.raises(services.AssessmentError, match="同一单位"):
        services.record_inspection(make("self", "自查", w.t1, day, inspected_unit=w.t2))
    with pytest.raises(services.AssessmentError, match="另一单位"):
        services.record_inspection(make("cross", "互查", w.t1, day, inspected_unit=w.t1))
    with pytest.raises(services.AssessmentError, match="同类单位"):
        services.record_inspection(make("cross", "互查", w.t1, day, inspected_unit=w.d1))
    with pytest.raises(services.AssessmentError, match="须指定被检查单位"):
        services.record_inspection(make("cross", "互查", w.t1, day))
    cross = services.record_inspection(make("cross", "东岭查西苑", w.t1, day, inspected_unit=w.t2))
    assert (cross.inspecting_unit, cross.inspected_unit) == (w.t1, w.t2)
    own = services.record_inspection(make("self", "东岭自查", w.t1, day, inspected_unit=w.t1))
    special = services.record_inspection(make("special", "百日攻坚专项检查", w.bureau, day))
    assert {own.mode, special.mode} == {"self", "special"}
    # A special inspection covers several units: each finding names its own.
    finding = services.record_finding(
        special, services.FindingInput(item=w.items["S1"], found_at=at("2026-03-10"), unit=w.d1)
    )
    assert finding.unit == w.d1
    with pytest.raises(services.AssessmentError, match="请指定责任单位"):
        services.record_finding(special, services.FindingInput(item=w.items["S1"], found_at=at("2026-03-10")))


def test_finding_rules_on_unit_track_quantity_and_place(world: World) -> None:
    w = world
    inspection = w.inspection(unit=w.t1)
    item = w.items["S1"]
    item.track = "departmental"
    item.save()
    with pytest.raises(services.AssessmentError, match="只适用于"):
        services.record_finding(inspection, services.FindingInput(item=item, found_at=at("2026-03-10")))
    with pytest.raises(services.AssessmentError, match="镇街或部门"):
        services.record_finding(
            inspection, services.FindingInput(item=w.items["Z1"], found_at=at("2026-03-10"), unit=w.bureau)
        )
    with pytest.raises(services.AssessmentError, match="大于 0"):
        services.record_finding(
            inspection,
            services.FindingInput(item=w.items["Z1"], found_at=at("2026-03-10"), quantity=Decimal(0)),
        )
    with pytest.raises(services.AssessmentError, match="同时填写"):
        services.record_finding(
            inspection, services.FindingInput(item=w.items["Z1"], found_at=at("2026-03-10"), lat=42.2)
        )
    finding = services.record_finding(
        inspection,
        services.FindingInput(
            item=w.items["Z1"],
            found_at=at("2026-03-10"),
            lat=42.27,
            lon=118.95,
            grid_code="150402001001",
            address="光明路 12 号",
        ),
    )
    assert (finding.unit, finding.lat, finding.grid_code) == (w.t1, 42.27, "150402001001")


def test_photos_are_checked_and_stored_through_storage(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    w = world
    photo = check_photo(jpeg())
    finding = w.finding("Z1", w.t1, at("2026-03-10"), photos=[photo])
    (stored,) = finding.photos.all()
    assert stored.content_type == "image/jpeg" and stored.extension == ".jpg"
    assert stored.file.name.startswith(f"assessment/2026/03/{finding.pk}/") and "现场" not in stored.file.name
    assert (tmp_path / stored.file.name).exists()
    with pytest.raises(forms.ValidationError, match="不是有效的照片"):
        check_photo(SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg"))
    settings.CHENGGUAN_MAX_UPLOAD_MB = 0.0001
    with pytest.raises(forms.ValidationError, match="超过"):
        check_photo(jpeg())


def test_finding_can_create_a_case(world: World) -> None:
    w = world
    inspection = w.inspection(unit=w.t1)
    with pytest.raises(services.AssessmentError, match="未关联案件类别"):
        services.record_finding(
            inspection, services.FindingInput(item=w.items["S1"], found_at=at("2026-03-10"), create_case=True)
        )
    assert not Finding.objects.exists()  # nothing half-written
    w.items["S1"].categories.add(w.category)
    finding = services.record_finding(
        inspection,
        services.FindingInput(
            item=w.items["S1"],
            found_at=at("2026-03-10"),
            create_case=True,
            description="电线杆小广告",
            address="光明路口",
        ),
    )
    case = Case.objects.get()
    assert finding.case == case
    assert case.channel == "patrol" and case.territory == w.t1 and "电线杆小广告" in case.description
    assert case.tags == ["assessment"] and case.events.get().action == "report"


def test_follow_up_checks_whether_a_finding_was_put_right(world: World) -> None:
    w = world
    original = w.finding("S1", w.t2, at("2026-03-02"), description="小广告")
    other = w.finding("S1", w.t2, at("2026-03-03"))
    follow = w.inspection("follow_up", unit=w.t2, day="2026-03-12")
    with pytest.raises(services.AssessmentError, match="指向被督查的原问题"):
        services.record_finding(follow, services.FindingInput(item=w.items["S1"], found_at=at("2026-03-12")))
    services.record_check(follow, original, "rectified", note="已清理", at=at("2026-03-12"))
    services.record_check(follow, other, "not_rectified", note="仍在", at=at("2026-03-12"))
    original.refresh_from_db()
    other.refresh_from_db()
    assert (original.status, other.status) == (FindingStatus.RECTIFIED, FindingStatus.NOT_RECTIFIED)
    repeat = Finding.objects.get(repeat_of=other)
    assert repeat.inspection == follow and repeat.found_at == at("2026-03-12")
    with pytest.raises(services.AssessmentError, match="追踪督查"):
        services.record_check(w.inspection(unit=w.t2), other, "rectified")
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    # 100 − 1 − 1 − 0 (the repeat hits the item cap of 2) = 98
    assert run.results.get(name="西苑街道").score == Decimal("98.00")


def test_standard_import_reports_every_row_error(world: World) -> None:
    standard = services.copy_standard(world.standard)
    bad = (
        "编号,层级,条目,分值,单项封顶,监管部门编码\n"
        "A1,顶级,条目,-1,,\nA2,常规,,x,-3,NOPE\nA1,常规,重复,-1,,\n"
    )
    report = services.import_items(standard, bad.encode(), filename="items.csv")
    assert not report.ok
    text = [str(e) for e in report.errors]
    assert "第 2 行「层级」：“顶级”无效，应为 零容忍、严管理、常规 之一" in text
    assert any(t.startswith("第 3 行「条目」") for t in text)
    assert any(t.startswith("第 3 行「分值」") for t in text)
    assert any(t.startswith("第 3 行「单项封顶」") for t in text)
    assert any("NOPE" in t for t in text)
    assert standard.items.count() == 3  # nothing written
    weights = "考评对象,指标,权重,目标值,加减分系数\n部门,nonsense,0.5,,\n部门,on_time_rate,0.4,0.9,\n"
    report = services.import_weights(standard, weights.encode(), filename="w.csv")
    messages = " ".join(str(e) for e in report.errors)
    assert "不是部门的指标" in messages and "同时填写" in messages
    rules = "编号,名称,触发条件,追责措施,跟进机构,连续末位起\nR1,末位,连续排名末位,领导约谈,纪检监察,\n"
    report = services.import_rules(standard, rules.encode(), filename="r.csv")
    assert "起始期数" in str(report.errors[0])


def test_sample_standard_loads_idempotently(db) -> None:
    from chengguan.assessment.demo import load_sample_standard

    first = load_sample_standard()
    tiers = list(first.items.values_list("tier", flat=True))
    assert tiers.count("zero_tolerance") == 6 and tiers.count("strict") == 10
    assert first.is_sample and first.status == "active"
    assert first.rules.count() == 5 and first.weights.count() == 23
    before = (first.items.count(), first.updated_at)
    again = load_sample_standard()
    assert again.pk == first.pk and (again.items.count(), again.updated_at) == before
