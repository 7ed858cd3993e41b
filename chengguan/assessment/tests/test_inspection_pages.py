"""The inspection pages: record inspections and findings, follow them up, who may do what.

Every refusal is checked to leave the database as it was.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from chengguan.assessment import services
from chengguan.assessment.models import Finding, FindingCheck, FindingPhoto, FindingStatus, Inspection
from chengguan.cases.models import Case
from chengguan.org.models import Staff
from chengguan.security.uploads import public_name

from .conftest import World, at


def client_of(w: World, who: str) -> Client:
    client = Client()
    client.force_login(w.users[who])
    return client


def add_staff(w: World, key: str, role: str, unit) -> Client:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(key, password="x-secret-pass-1")
    w.users[key] = user
    w.staff[key] = Staff.objects.create(code=f"P-{key}", name=key, role=role, unit=unit, user=user)
    return client_of(w, key)


def photo_bytes(gps: tuple[float, float] | None = None, fmt: str = "JPEG") -> bytes:
    """A small picture; with ``gps`` its EXIF carries a position (and a camera owner)."""
    image = Image.new("RGB", (32, 24), "orange")
    exif = Image.Exif()
    exif[0x013B] = "Zhang San"  # Artist: personal data that must not reach a public copy
    if gps is not None:
        lat, lon = gps
        exif.get_ifd(0x8825).update(
            {1: "N", 2: (float(int(lat)), float(round((lat % 1) * 60, 4)), 0.0), 3: "E"}
            | {4: (float(int(lon)), float(round((lon % 1) * 60, 4)), 0.0)}
        )
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif.tobytes())
    return buffer.getvalue()


def upload(data: bytes, name: str = "现场.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def now_text() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def cross_form(w: World, **extra: object) -> dict[str, object]:
    return {
        "mode": "cross",
        "title": "东岭街道对调检查西苑街道",
        "inspecting_unit": w.t1.pk,
        "inspected_unit": w.t2.pk,
        "date": timezone.localdate().isoformat(),
        **extra,
    }


def finding_form(w: World, **extra: object) -> dict[str, object]:
    return {
        "item": w.items["S1"].pk,
        "quantity": "2",
        "found_at": now_text(),
        "description": "电线杆小广告",
        "address": "光明路 12 号",
        **extra,
    }


def test_assessor_records_a_cross_inspection_with_a_photo_placed_by_its_gps(
    world: World, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    w = world
    client = client_of(w, "assessor")
    page = client.get(reverse("assessment:inspection_create"))
    assert page.status_code == 200 and "对调互查" in page.content.decode()
    response = client.post(reverse("assessment:inspection_create"), cross_form(w))
    inspection = Inspection.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/inspections/{inspection.pk}/")
    assert (inspection.mode, inspection.inspecting_unit, inspection.inspected_unit) == ("cross", w.t1, w.t2)
    assert inspection.lead_inspector == w.staff["assessor"] and inspection.created_by == w.users["assessor"]

    form = finding_form(w, address="", photos=upload(photo_bytes(gps=(31.5, 120.25))))
    response = client.post(reverse("assessment:finding_create", args=[inspection.pk]), form)
    assert response.status_code == 302, response.content.decode()
    finding = Finding.objects.get()
    assert finding.unit == w.t2 and finding.quantity == 2  # charged to the inspected unit
    assert finding.lat == pytest.approx(31.5) and finding.lon == pytest.approx(120.25)
    (photo,) = finding.photos.all()
    assert photo.content_type == "image/jpeg" and (tmp_path / photo.file.name).exists()
    assert (tmp_path / public_name(photo.file.name)).exists()  # the copy the pages show

    served = client.get(reverse("assessment:photo", args=[photo.token]))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as shown:
        assert len(shown.getexif()) == 0  # no position, no owner in what the page shows
    with photo.file.open("rb") as original, Image.open(original) as kept:
        assert kept.getexif().get(0x013B) == "Zhang San"  # the evidence is kept as sent

    detail = client.get(reverse("assessment:inspection", args=[inspection.pk])).content.decode()
    assert "S1 乱贴乱画" in detail and "电线杆小广告" in detail and "西苑街道" in detail
    listing = client.get(reverse("assessment:inspections")).content.decode()
    assert "东岭街道对调检查西苑街道" in listing and "问题 1 处" in listing


def test_bad_inspections_are_refused_in_chinese_and_nothing_is_saved(world: World) -> None:
    w = world
    client = client_of(w, "assessor")
    url = reverse("assessment:inspection_create")
    cases = [
        (cross_form(w, inspected_unit=w.t1.pk), "对调互查须由另一单位检查"),
        (cross_form(w, inspected_unit=w.d1.pk), "同类单位之间"),
        (cross_form(w, inspected_unit=""), "须指定被检查单位"),
        (cross_form(w, mode="self"), "应为同一单位"),
        (cross_form(w, title=" "), "该字段是必填项"),
        (cross_form(w, date=(timezone.localdate() + dt.timedelta(days=2)).isoformat()), "不能晚于今天"),
        (cross_form(w, mode="follow_up"), "不在可用的选项中"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, message
        assert message in response.content.decode(), message
    assert not Inspection.objects.exists()


def test_bad_findings_are_refused_and_leave_nothing(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    w = world
    client = client_of(w, "assessor")
    inspection = services.record_inspection(
        services.InspectionInput("cross", "互查", w.t1, timezone.localdate(), inspected_unit=w.t2)
    )
    url = reverse("assessment:finding_create", args=[inspection.pk])
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    cases = [
        (finding_form(w, photos=upload(b"GIF89a not really")), "不是有效的照片"),
        (finding_form(w, address=""), "请定位、在地图上选点或填写地址"),
        (finding_form(w, lat="31.2"), "经纬度必须同时填写"),
        (finding_form(w, lat="95", lon="120"), "确保该值小于或等于90"),
        (finding_form(w, quantity="0"), "数量应大于 0"),
        (finding_form(w, found_at=later), "发现时间不能晚于当前时间"),
        (finding_form(w, unit=w.bureau.pk), "不在可用的选项中"),
        (finding_form(w, create_case="on"), "未关联案件类别"),
        (finding_form(w, description=""), "该字段是必填项"),
        (finding_form(w, rectify_by="2000-01-01"), "整改期限不能早于检查日期"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, message
        assert message in response.content.decode(), message
    settings.CHENGGUAN_MAX_UPLOAD_MB = 0.001
    big = client.post(url, finding_form(w, photos=upload(photo_bytes() + b"\0" * 4096)))
    assert big.status_code == 400 and "超过" in big.content.decode()
    assert not Finding.objects.exists() and not FindingPhoto.objects.exists() and not Case.objects.exists()
    assert not any(tmp_path.rglob("*.jpg"))


def test_a_finding_can_become_a_case_through_the_case_workflow(world: World) -> None:
    w = world
    client = client_of(w, "assessor")
    inspection = w.inspection("daily", unit=w.t1, day=timezone.localdate().isoformat())
    url = reverse("assessment:finding_create", args=[inspection.pk])
    response = client.post(url, finding_form(w, create_case="on", case_category=w.category.pk))
    assert response.status_code == 302
    finding = Finding.objects.get()
    case = Case.objects.get()
    assert finding.case == case and case.tags == ["assessment"] and case.channel == "patrol"
    assert case.events.get().action == "report" and "电线杆小广告" in case.description


def test_follow_up_page_marks_rectified_or_records_a_repeat(world: World) -> None:
    w = world
    client = client_of(w, "assessor")
    today = timezone.localdate()
    done = w.finding("S1", w.t2, timezone.now() - dt.timedelta(days=3), description="小广告")
    left = w.finding("S1", w.t2, timezone.now() - dt.timedelta(days=3), description="乱画")
    form = {"inspecting_unit": w.bureau.pk, "date": today.isoformat(), "note": "已清理"}
    page = client.get(reverse("assessment:finding_follow_up", args=[done.pk]))
    assert page.status_code == 200 and "已整改" in page.content.decode()
    response = client.post(
        reverse("assessment:finding_follow_up", args=[done.pk]), {**form, "result": "rectified"}
    )
    assert response.status_code == 302
    done.refresh_from_db()
    check = FindingCheck.objects.get(finding=done)
    assert done.status == FindingStatus.RECTIFIED and check.inspection.mode == "follow_up"
    assert check.inspection.inspected_unit == w.t2 and check.note == "已清理"
    assert not Finding.objects.filter(repeat_of=done).exists()

    client.post(
        reverse("assessment:finding_follow_up", args=[left.pk]),
        {**form, "result": "not_rectified", "penalize": "on", "note": "仍在"},
    )
    left.refresh_from_db()
    repeat = Finding.objects.get(repeat_of=left)
    assert left.status == FindingStatus.NOT_RECTIFIED and repeat.unit == w.t2 and repeat.item == left.item
    shown = client.get(reverse("assessment:finding", args=[left.pk])).content.decode()
    assert "未整改" in shown and "仍在" in shown

    before = (Inspection.objects.count(), FindingCheck.objects.count(), Finding.objects.count())
    again = client.post(
        reverse("assessment:finding_follow_up", args=[done.pk]), {**form, "result": "rectified"}
    )
    assert again.status_code == 400 and "已确认整改" in again.content.decode()
    early = client.post(
        reverse("assessment:finding_follow_up", args=[left.pk]),
        {**form, "result": "rectified", "date": (today - dt.timedelta(days=10)).isoformat()},
    )
    assert early.status_code == 400 and "不能早于问题发现日期" in early.content.decode()
    blank = client.post(reverse("assessment:finding_follow_up", args=[left.pk]), {**form})
    assert blank.status_code == 400 and "该字段是必填项" in blank.content.decode()
    assert (Inspection.objects.count(), FindingCheck.objects.count(), Finding.objects.count()) == before


def test_who_may_create_and_who_sees_what(world: World) -> None:
    w = world
    leader = add_staff(w, "leader", "leader", w.bureau)
    d1_handler = add_staff(w, "d1_handler", "handler", w.d1)
    t1_inspector = client_of(w, "inspector")  # an inspector of 东岭街道 (t1)
    day = timezone.localdate().isoformat()
    of_t1 = w.inspection("daily", unit=w.t1, day=day)
    of_d1 = w.inspection("daily", unit=w.d1, day=day)

    # Leaders read everything and write nothing.
    listing = leader.get(reverse("assessment:inspections"))
    assert listing.status_code == 200 and "新建检查" not in listing.content.decode()
    assert leader.get(reverse("assessment:inspection_create")).status_code == 403
    assert leader.post(reverse("assessment:inspection_create"), cross_form(w)).status_code == 403
    assert leader.get(reverse("assessment:inspection", args=[of_t1.pk])).status_code == 200

    # A unit sees the inspections of itself only.
    assert d1_handler.get(reverse("assessment:inspection", args=[of_d1.pk])).status_code == 200
    assert d1_handler.get(reverse("assessment:inspection", args=[of_t1.pk])).status_code == 404
    assert d1_handler.get(reverse("assessment:inspection_create")).status_code == 403
    assert d1_handler.post(reverse("assessment:finding_create", args=[of_d1.pk]), {}).status_code == 403

    # Inspection staff record in their own unit's name, not another's.
    swapped = cross_form(w, inspecting_unit=w.t2.pk, inspected_unit=w.t1.pk)
    refused = t1_inspector.post(reverse("assessment:inspection_create"), swapped)
    assert refused.status_code == 400 and "不在可用的选项中" in refused.content.decode()
    assert t1_inspector.post(reverse("assessment:inspection_create"), cross_form(w)).status_code == 302
    assert Inspection.objects.filter(inspecting_unit=w.t1, mode="cross").count() == 1
    # ... and add findings only to inspections their side made.
    assert t1_inspector.post(reverse("assessment:finding_create", args=[of_t1.pk]), {}).status_code == 403

    anonymous = Client().get(reverse("assessment:inspections"))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


def test_list_filters_by_mode_unit_and_month_and_answers_htmx_with_the_table(world: World) -> None:
    w = world
    client = client_of(w, "assessor")
    make = services.InspectionInput
    services.record_inspection(make("daily", "三月日常", w.bureau, dt.date(2026, 3, 5), w.t1))
    services.record_inspection(make("self", "四月自查", w.t2, dt.date(2026, 4, 5), w.t2))
    services.record_inspection(make("special", "四月专项", w.bureau, dt.date(2026, 4, 9)))
    url = reverse("assessment:inspections")

    def titles(**query: object) -> set[str]:
        text = client.get(url, query).content.decode()
        return {t for t in ("三月日常", "四月自查", "四月专项") if t in text}

    assert titles() == {"三月日常", "四月自查", "四月专项"}
    assert titles(mode="self") == {"四月自查"}
    assert titles(unit=w.t1.pk) == {"三月日常"}
    assert titles(unit=w.bureau.pk) == {"三月日常", "四月专项"}
    assert titles(month="2026-04") == {"四月自查", "四月专项"}
    assert titles(month="2026-04", mode="special") == {"四月专项"}
    odd = client.get(url, {"month": "四月"}).content.decode()
    assert "月份格式应为 2026-03" in odd and "三月日常" in odd
    partial = client.get(url, {"mode": "daily"}, headers={"HX-Request": "true"}).content.decode()
    assert partial.startswith('<div id="inspection-table">') and "<html" not in partial
    assert "三月日常" in partial and "四月自查" not in partial


def test_published_evidence_photo_is_open_to_readers_of_the_run(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    w = world
    from chengguan.cases.forms import check_photo

    photo = check_photo(upload(photo_bytes(gps=(31.5, 120.25))))
    finding = w.finding("Z1", w.t1, at("2026-03-03"), photos=[photo])
    token = finding.photos.get().token
    other = add_staff(w, "d1_handler", "handler", w.d1)
    assert other.get(reverse("assessment:photo", args=[token])).status_code == 404  # not yet published
    services.publish(services.run_assessment("month", dt.date(2026, 3, 1)))
    served = other.get(reverse("assessment:photo", args=[token]))
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.content)) as shown:
        assert len(shown.getexif()) == 0
