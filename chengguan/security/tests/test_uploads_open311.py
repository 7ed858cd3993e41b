"""Open311 ``media`` uploads go through chengguan.security.uploads, and every photo published to
citizens or Open311 clients (media_url) is the EXIF-free public copy, never the original."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import ExifTags, Image

from chengguan.api.models import Open311Request, Scope
from chengguan.api.tests.conftest import INSIDE, District, build_district, issue
from chengguan.cases.models import Attachment, Case
from chengguan.security.tests.test_uploads import exif_with_gps

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Path) -> None:
    from chengguan.api.auth import forget_keys
    from chengguan.api.queries import forget_catalogue

    settings.MEDIA_ROOT = str(tmp_path / "media")
    forget_keys()  # per-process caches must not keep a rolled-back test's rows
    forget_catalogue()


@pytest.fixture
def district(db: None) -> District:
    return build_district()


@pytest.fixture
def open311_key(district: District) -> str:
    return issue([Scope.OPEN311_WRITE], name="市民 App")


def jpeg_with_gps() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 90, 200)).save(buffer, "JPEG", exif=exif_with_gps())
    return buffer.getvalue()


def form(key: str, **extra: Any) -> dict[str, Any]:
    data = {
        "api_key": key,
        "service_code": "M06010",
        "lat": INSIDE[0],
        "long": INSIDE[1],
        "description": "垃圾桶满溢",
        "attribute[size]": "large",
    }
    data.update(extra)
    return data


def files(settings: Any) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_media_upload_is_stored_and_published_without_exif(
    client: Client, district: District, open311_key: str, settings: Any
) -> None:
    media = SimpleUploadedFile("../../手机照片.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(f"{BASE}/requests.json", form(open311_key, media=media))
    assert response.status_code == 200, response.content
    code = response.json()[0]["service_request_id"]
    case = Case.objects.get(code=code)
    photo = Attachment.objects.get(case=case)
    assert photo.kind == "before" and photo.file.name.endswith(f"{photo.token}.jpg")
    media_url = Open311Request.objects.get(case=case).media_url
    assert media_url.endswith(f"/public/photos/{photo.token}/")
    read = client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert read["media_url"] == media_url
    published = Client().get(media_url.replace("http://testserver", ""))
    assert published.status_code == 200 and published["Content-Type"] == "image/jpeg"
    body = b"".join(published.streaming_content)
    with Image.open(io.BytesIO(body)) as image:
        exif = image.getexif()
        assert not dict(exif) and not dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    assert b"13912341234" not in body  # the owner the camera wrote into the original
    with photo.file.open("rb") as original:
        assert b"13912341234" in original.read()  # kept as evidence


@pytest.mark.parametrize(
    ("payload", "description"),
    [
        (b"%PDF-1.4 renamed", "media must be a JPEG, PNG or WebP picture"),
        (b"GIF89a<?php echo 1; ?>", "media must be a JPEG, PNG or WebP picture"),
        (b"", "media is an empty file"),
    ],
)
def test_bad_media_is_refused_and_nothing_is_kept(
    client: Client, district: District, open311_key: str, settings: Any, payload: bytes, description: str
) -> None:
    media = SimpleUploadedFile("photo.jpg", payload, content_type="image/jpeg")
    response = client.post(f"{BASE}/requests.json", form(open311_key, media=media))
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": description}]
    assert Case.objects.count() == 0 and files(settings) == []


def test_oversize_media_is_refused(
    client: Client, district: District, open311_key: str, settings: Any
) -> None:
    settings.CHENGGUAN_MAX_UPLOAD_MB = 0.001
    noise = io.BytesIO()
    Image.effect_noise((200, 200), 90).convert("RGB").save(noise, "JPEG", quality=95)
    media = SimpleUploadedFile("big.jpg", noise.getvalue(), content_type="image/jpeg")
    response = client.post(f"{BASE}/requests.json", form(open311_key, media=media))
    assert response.status_code in (400, 413)
    assert Case.objects.count() == 0 and files(settings) == []


def test_staff_photos_are_not_served_on_the_public_address(district: District, settings: Any) -> None:
    from chengguan.cases import services
    from chengguan.cases.forms import check_photo

    upload = SimpleUploadedFile("x.jpg", jpeg_with_gps(), content_type="image/jpeg")
    case = services.report(
        services.ReportInput(
            category=district.garbage,
            description="巡查发现",
            channel="patrol",
            lat=INSIDE[0],
            lon=INSIDE[1],
            reporter_staff=district.staff["inspector"] if "inspector" in district.staff else None,
        ),
        photos=[check_photo(upload)],
    )
    photo = Attachment.objects.get(case=case)
    assert Client().get(f"/public/photos/{photo.token}/").status_code == 404
    assert Client().get("/public/photos/nonexistent/").status_code == 404
