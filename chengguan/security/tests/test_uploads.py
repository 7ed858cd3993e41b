"""Uploaded photos: content check, size limit, EXIF position, public copies without EXIF, safe names."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import ExifTags, Image

from chengguan.security import uploads
from chengguan.security.uploads import UploadRejected, check_image, public_copy, safe_filename


def exif_with_gps(
    lat: tuple[float, float, float] = (42.0, 16.0, 12.5),
    lon: tuple[float, float, float] = (118.0, 57.0, 36.0),
    lat_ref: str = "N",
    lon_ref: str = "E",
    orientation: int | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "巡查手机"
    exif[ExifTags.Base.Artist] = "张三 13912341234"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
    gps[ExifTags.GPS.GPSLatitude] = lat
    gps[ExifTags.GPS.GPSLongitudeRef] = lon_ref
    gps[ExifTags.GPS.GPSLongitude] = lon
    gps[ExifTags.GPS.GPSAltitude] = 571.5
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:05:01 09:30:00"
    return exif


def picture(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 32),
    exif: Image.Exif | None = None,
    name: str = "现场.jpg",
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    mode = "RGB" if fmt == "JPEG" else "RGBA"
    image = Image.new(mode, size, (200, 40, 40))
    if exif is not None:
        image.save(buffer, fmt, exif=exif)
    else:
        image.save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [
        ("JPEG", "image/jpeg", ".jpg"),
        ("PNG", "image/png", ".png"),
        ("WEBP", "image/webp", ".webp"),
    ],
)
def test_type_comes_from_the_content(fmt: str, content_type: str, extension: str) -> None:
    checked = check_image(picture(fmt, name="photo.exe"))
    assert (checked.format, checked.content_type, checked.extension) == (fmt, content_type, extension)
    assert (checked.width, checked.height) == (64, 32)


def test_gps_position_and_time_are_read() -> None:
    checked = check_image(picture(exif=exif_with_gps()))
    assert checked.gps is not None
    assert checked.gps.lat == pytest.approx(42 + 16 / 60 + 12.5 / 3600)
    assert checked.gps.lon == pytest.approx(118 + 57 / 60 + 36 / 3600)
    assert checked.gps.altitude_m == pytest.approx(571.5)
    assert checked.taken_at == datetime(2026, 5, 1, 9, 30)


def test_southern_and_western_positions_are_negative() -> None:
    checked = check_image(picture(exif=exif_with_gps(lat_ref="S", lon_ref="W")))
    assert checked.gps is not None and checked.gps.lat < 0 and checked.gps.lon < 0


def test_no_fix_is_no_position() -> None:
    assert check_image(picture()).gps is None
    zero = exif_with_gps(lat=(0.0, 0.0, 0.0), lon=(0.0, 0.0, 0.0))
    assert check_image(picture(exif=zero)).gps is None
    wild = exif_with_gps(lat=(95.0, 0.0, 0.0))
    assert check_image(picture(exif=wild)).gps is None


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not a picture at all",
        b"%PDF-1.4 pretending to be a photo",
        b"GIF89a" + b"\x00" * 40,
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    ],
)
def test_non_pictures_are_refused_in_chinese(payload: bytes) -> None:
    with pytest.raises(UploadRejected) as refused:
        check_image(SimpleUploadedFile("x.jpg", payload, content_type="image/jpeg"))
    assert refused.value.code in {"empty", "not_image"}
    assert "照片" in refused.value.message or "文件" in refused.value.message


def test_truncated_picture_is_refused() -> None:
    whole = picture(size=(400, 300)).read()
    with pytest.raises(UploadRejected) as refused:
        check_image(SimpleUploadedFile("x.jpg", whole[: len(whole) // 2]))
    assert refused.value.code == "not_image"


def test_gif_is_not_accepted_even_if_real() -> None:
    buffer = io.BytesIO()
    Image.new("P", (4, 4)).save(buffer, "GIF")
    with pytest.raises(UploadRejected):
        check_image(SimpleUploadedFile("a.gif", buffer.getvalue()))


def test_size_limit(settings) -> None:
    upload = picture(size=(300, 300))
    with pytest.raises(UploadRejected) as refused:
        check_image(upload, max_bytes=100)
    assert refused.value.code == "too_big" and "MB" in refused.value.message
    settings.CHENGGUAN_MAX_UPLOAD_MB = 0.0001
    with pytest.raises(UploadRejected):
        check_image(upload)
    settings.CHENGGUAN_MAX_UPLOAD_MB = 10
    assert check_image(upload).size == upload.size


def test_too_many_pixels_are_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_PIXELS", 1000)
    with pytest.raises(UploadRejected) as refused:
        check_image(picture(size=(100, 100)))
    assert refused.value.code == "too_many_pixels"


def test_check_leaves_the_file_at_the_start() -> None:
    upload = picture(exif=exif_with_gps())
    check_image(upload)
    assert upload.tell() == 0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_public_copy_has_no_exif(fmt: str) -> None:
    upload = picture(fmt, exif=exif_with_gps())
    original = Image.open(io.BytesIO(upload.read()))
    upload.seek(0)
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the original does carry the position
    copy = public_copy(upload)
    published = Image.open(io.BytesIO(copy.content))
    assert published.format == fmt and copy.content_type == uploads.IMAGE_FORMATS[fmt][0]
    assert dict(published.getexif()) == {}
    assert not {"exif", "xmp", "comment"} & set(published.info)
    assert b"13912341234" not in copy.content and "巡查手机".encode() not in copy.content
    assert check_image(SimpleUploadedFile("p", copy.content)).gps is None


def test_public_copy_is_turned_upright_and_can_be_shrunk() -> None:
    # Orientation 6: the camera was turned; viewers rotate by 90°, so must the copy without EXIF.
    copy = public_copy(picture(size=(64, 32), exif=exif_with_gps(orientation=6)))
    assert (copy.width, copy.height) == (32, 64)
    small = public_copy(picture(size=(1000, 500)), max_side=200)
    assert (small.width, small.height) == (200, 100)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("现场照片.jpg", "现场照片.jpg"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("C:\\Users\\张三\\照片 1.JPG", "照片_1.JPG"),
        ("/absolute/path/a.png", "a.png"),
        (".htaccess", "htaccess"),
        ("..", "file"),
        ("", "file"),
        ("a\x00b\x1f.jpg", "ab.jpg"),
        ("CON.jpg", "_CON.jpg"),
        ("<script>alert(1)</script>.png", "script.png"),  # "/" makes the rest a directory
        ("照片(1)?*|:.jpeg", "照片(1).jpeg"),
        ("ｆｕｌｌ－ｗｉｄｔｈ．ｐｎｇ", "full-width.png"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@given(st.text(max_size=300))
@example("0.0000000\u2120'0")  # a cut extension ending in "_": found by Hypothesis in CI
@example("a" * 95 + ".b.c" + "x" * 10)  # a cut stem ending in "."
def test_safe_filename_never_escapes_or_hides(name: str) -> None:
    safe = safe_filename(name)
    assert safe and len(safe) <= 100
    assert "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and safe not in {".", ".."}
    assert all(char.isprintable() for char in safe)
    assert safe_filename(safe) == safe
