"""Every photo a page takes goes through chengguan.security.uploads: real generated JPEG/PNG
files with EXIF written by Pillow, a renamed and a polyglot file, an oversize file and a
traversal file name, through the inspector's report, the unit's report-back and the citizen's
complaint."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from chengguan.cases.models import Attachment, Case, CaseEvent
from chengguan.security.tests.test_uploads import exif_with_gps
from chengguan.security.uploads import ensure_public_copy
from chengguan.web.tests.conftest import Site, build_site

pytestmark = pytest.mark.django_db

# exif_with_gps() writes 42°16'12.5"N 118°57'36"E: inside the page tests' town.
PHOTO_LAT, PHOTO_LON = 42.2701389, 118.96


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHENGGUAN_MAP_TILES = ""


@pytest.fixture
def site(db: None) -> Site:
    return build_site()


def jpeg(
    name: str = "IMG_0001.jpg", *, gps: bool = True, size: tuple[int, int] = (64, 48)
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, (30, 120, 60))
    if gps:
        image.save(buffer, "JPEG", exif=exif_with_gps())
    else:
        image.save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def png(name: str = "现场.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "张三 13912341234"
    Image.new("RGBA", (16, 16), (200, 40, 40, 255)).save(buffer, "PNG", exif=exif)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def report_form(site: Site, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"category": site.garbage.pk, "description": "路口成堆垃圾"}
    data.update(kw)
    return data


def media_files(settings: Any) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def exif_of(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return {**dict(exif), **dict(exif.get_ifd(ExifTags.IFD.GPSInfo))}


def test_photo_position_places_a_report_without_a_point(site: Site, settings: Any) -> None:
    client = site.client("inspector")
    body = client.get("/m/").content.decode()
    assert "以照片中记录的拍摄位置（GPS）作为案件位置" in body  # the form says so
    response = client.post("/m/report/", report_form(site, photos=[jpeg()]), follow=True)
    assert response.status_code == 200
    assert "案件位置取自照片中的拍摄位置" in response.content.decode()
    case = Case.objects.get()
    assert (case.lat, case.lon) == pytest.approx((PHOTO_LAT, PHOTO_LON), abs=1e-6)
    assert case.territory == site.town
    photo = Attachment.objects.get(case=case)
    # The original keeps its EXIF as evidence; the public copy beside it has none.
    original = photo.file.read()
    assert exif_of(original)
    with photo.file.storage.open(ensure_public_copy(photo.file.storage, photo.file.name)) as copy:
        public = copy.read()
    assert exif_of(public) == {}
    assert b"13912341234" in original and b"13912341234" not in public


def test_a_map_pick_wins_over_the_photo(site: Site) -> None:
    site.client("inspector").post("/m/report/", report_form(site, lat="42.28", lon="118.97", photos=[jpeg()]))
    case = Case.objects.get()
    assert (case.lat, case.lon) == (42.28, 118.97)


def test_a_photo_without_gps_and_no_point_is_refused(site: Site, settings: Any) -> None:
    response = site.client("inspector").post("/m/report/", report_form(site, photos=[jpeg(gps=False)]))
    assert response.status_code == 400
    assert "请定位、在地图上选点或填写地址" in response.content.decode()
    assert Case.objects.count() == 0 and media_files(settings) == []


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("报告.jpg", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF"),  # renamed PDF
        ("shell.png", b"GIF89a<?php system($_GET['c']); ?>"),  # GIF header + script
        ("page.jpg", b"<html><script>alert(1)</script></html>"),
        ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 30),  # a header and nothing behind
    ],
)
def test_renamed_and_polyglot_files_are_refused_and_leave_nothing(
    site: Site, settings: Any, name: str, payload: bytes
) -> None:
    upload = SimpleUploadedFile(name, payload, content_type="image/jpeg")
    response = site.client("inspector").post(
        "/m/report/", report_form(site, lat="42.27", lon="118.96", photos=[upload])
    )
    assert response.status_code == 400
    assert "不是有效的照片" in response.content.decode()
    assert Case.objects.count() == 0 and Attachment.objects.count() == 0
    assert media_files(settings) == []


def test_a_picture_with_a_script_appended_is_published_as_pixels_only(site: Site) -> None:
    # A real JPEG that is also an HTML page past its end marker: it decodes, so it is taken as
    # evidence, but citizens get a re-encoded copy that carries none of the trailing bytes.
    trailer = b"<script>alert(document.cookie)</script>"
    upload = SimpleUploadedFile("poly.jpg", jpeg().read() + trailer, content_type="text/html")
    site.client("inspector").post("/m/report/", report_form(site, photos=[upload]))
    photo = Attachment.objects.get()
    assert photo.content_type == "image/jpeg" and photo.file.name.endswith(f"{photo.token}.jpg")
    with photo.file.storage.open(ensure_public_copy(photo.file.storage, photo.file.name)) as copy:
        assert trailer not in copy.read()


def test_oversize_file_is_refused_before_anything_is_stored(site: Site, settings: Any) -> None:
    settings.CHENGGUAN_MAX_UPLOAD_MB = 0.01  # 10 KB
    noise = Image.effect_noise((400, 400), 80).convert("RGB")
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=95)
    big = SimpleUploadedFile("big.jpg", buffer.getvalue(), content_type="image/jpeg")
    assert big.size > 10 * 1024
    response = site.client("inspector").post(
        "/m/report/", report_form(site, lat="42.27", lon="118.96", photos=[big])
    )
    assert response.status_code == 400
    assert "超过 0.01 MB 的上限" in response.content.decode()
    assert Case.objects.count() == 0 and media_files(settings) == []


@pytest.mark.parametrize(
    "name",
    ["../../../../etc/passwd.jpg", "..\\..\\windows\\win.ini.png", "/abs/olute.jpg", "CON.jpg", "a\x00b.jpg"],
)
def test_traversal_names_never_reach_the_disk(site: Site, settings: Any, name: str) -> None:
    site.client("inspector").post("/m/report/", report_form(site, photos=[jpeg(name)]))
    photo = Attachment.objects.get()
    assert ".." not in photo.original_name and "/" not in photo.original_name
    assert "\\" not in photo.original_name and "\x00" not in photo.original_name
    root = os.path.realpath(settings.MEDIA_ROOT)
    stored = os.path.realpath(photo.file.path)
    assert stored.startswith(root + os.sep)
    assert os.path.basename(stored) == f"{photo.token}.jpg"
    assert media_files(settings) == [photo.file.name]


def test_report_back_photos_go_through_the_same_checks(site: Site, settings: Any) -> None:
    case = site.to("handling")
    client = site.client("handler")
    fake = SimpleUploadedFile("after.jpg", b"not a picture", content_type="image/jpeg")
    refused = client.post(
        f"/cases/{case.code}/act/", {"action": "report_back", "version": case.version, "photos": [fake]}
    )
    assert refused.status_code == 400 and "不是有效的照片" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "handling" and media_files(settings) == []
    events_before = CaseEvent.objects.filter(case=case).count()
    done = client.post(
        f"/cases/{case.code}/act/",
        {"action": "report_back", "version": case.version, "note": "已清运", "photos": [png(), jpeg()]},
    )
    assert done.status_code == 302
    assert CaseEvent.objects.filter(case=case).count() == events_before + 1
    after = list(Attachment.objects.filter(case=case).order_by("pk"))
    assert [a.content_type for a in after] == ["image/png", "image/jpeg"]
    for photo in after:
        with photo.file.storage.open(ensure_public_copy(photo.file.storage, photo.file.name)) as copy:
            assert exif_of(copy.read()) == {}


def test_citizen_photo_is_checked_and_published_without_exif(site: Site, settings: Any) -> None:
    from django.test import Client

    client = Client()
    data = {
        "category": site.garbage.pk,
        "description": "小区门口垃圾没人清",
        "lat": "42.27",
        "lon": "118.96",
        "photos": [jpeg("我的照片.jpg")],
    }
    assert client.post("/public/complain/", data).status_code == 302
    photo = Attachment.objects.get()
    assert photo.original_name == "我的照片.jpg"
    with photo.file.storage.open(ensure_public_copy(photo.file.storage, photo.file.name)) as copy:
        public = copy.read()
    assert exif_of(public) == {} and b"\xff\xd8" == public[:2]
    bad = dict(data, photos=[SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>")])
    response = client.post("/public/complain/", bad)
    assert response.status_code == 400 and "不是有效的照片" in response.content.decode()
    assert Case.objects.count() == 1
