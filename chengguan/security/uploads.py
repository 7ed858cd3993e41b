"""Uploaded photos: checked by content, size-limited, their GPS read, published without EXIF.

The case pages and the API call :func:`check_image` on every upload (it raises
:class:`UploadRejected` with a message for the person), use :attr:`CheckedImage.gps` to
place a case reported without a location, keep the original file as evidence and show the
public :func:`public_copy` (no EXIF: no position, camera or owner) to citizens. Stored names
come from :func:`safe_filename` or, better, from a token of our own.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

# Pillow format -> (content type, our file extension)
IMAGE_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
# A 50-megapixel phone camera fits; a decompression bomb does not.
MAX_PIXELS = 60_000_000


class UploadRejected(ValueError):
    """An upload we refuse, with a message for the person who sent it."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class GpsPosition:
    """WGS-84 position written by the camera (phones write GPS coordinates, not GCJ-02)."""

    lat: float
    lon: float
    altitude_m: float | None = None


@dataclass(frozen=True)
class CheckedImage:
    format: str
    content_type: str
    extension: str
    width: int
    height: int
    size: int
    gps: GpsPosition | None
    taken_at: datetime | None


def max_upload_bytes() -> int:
    return int(float(getattr(settings, "CHENGGUAN_MAX_UPLOAD_MB", 10)) * 1024 * 1024)


def _size_of(file: IO[bytes]) -> int:
    size = getattr(file, "size", None)
    if isinstance(size, int):
        return size
    position = file.tell()
    file.seek(0, io.SEEK_END)
    end = file.tell()
    file.seek(position)
    return end


def _name_of(file: IO[bytes]) -> str:
    return str(getattr(file, "name", "") or "照片")


def check_image(file: IO[bytes], *, max_bytes: int | None = None) -> CheckedImage:
    """The facts of an uploaded JPEG/PNG/WebP picture, or :class:`UploadRejected`.

    The type comes from the bytes (Pillow decodes the whole picture), never from the name or
    the browser's content type; pictures over ``max_bytes`` (``CHENGGUAN_MAX_UPLOAD_MB``) or
    over :data:`MAX_PIXELS` are refused before they are decoded.
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    name = safe_filename(_name_of(file))
    size = _size_of(file)
    if size > limit:
        megabytes, limit_mb = size / 1024 / 1024, limit / 1024 / 1024
        raise UploadRejected(
            _("照片“%(name)s”有 %(size)s MB，超过 %(mb)s MB 的上限，请压缩后再上传。")
            % {"name": name, "size": f"{megabytes:.1f}", "mb": f"{round(limit_mb, 2):g}"},
            "too_big",
        )
    if size == 0:
        raise UploadRejected(_("“%(name)s”是空文件，请重新选择照片。") % {"name": name}, "empty")
    not_image = UploadRejected(
        _("“%(name)s”不是有效的照片，请上传 JPG、PNG 或 WebP 图片。") % {"name": name}, "not_image"
    )
    try:
        file.seek(0)
        with Image.open(file) as image:
            kind = image.format or ""
            if kind not in IMAGE_FORMATS:
                raise not_image
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UploadRejected(
                    _("照片“%(name)s”的像素过多（%(width)s×%(height)s），请缩小后再上传。")
                    % {"name": name, "width": width, "height": height},
                    "too_many_pixels",
                )
            image.verify()
        file.seek(0)
        with Image.open(file) as image:
            image.load()  # a truncated or corrupt picture fails here, not on someone's screen
            exif = image.getexif()
    except UploadRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise not_image from exc
    finally:
        file.seek(0)
    content_type, extension = IMAGE_FORMATS[kind]
    return CheckedImage(
        format=kind,
        content_type=content_type,
        extension=extension,
        width=width,
        height=height,
        size=size,
        gps=gps_position(exif),
        taken_at=taken_at(exif),
    )


def _to_float(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator) of old writers
        numerator, denominator = value
        return float(Fraction(int(numerator), int(denominator))) if denominator else float("nan")
    return float(value)


def _degrees(value: Any) -> float:
    parts = [_to_float(part) for part in value] if isinstance(value, tuple | list) else [_to_float(value)]
    parts += [0.0] * (3 - len(parts))
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def gps_position(exif: Image.Exif) -> GpsPosition | None:
    """The GPS position in a picture's EXIF, or None when missing, partial, zero or out of range."""
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except (KeyError, ValueError, TypeError, OSError):
        return None
    tags = ExifTags.GPS
    if not gps or tags.GPSLatitude not in gps or tags.GPSLongitude not in gps:
        return None
    try:
        lat = _degrees(gps[tags.GPSLatitude])
        lon = _degrees(gps[tags.GPSLongitude])
        altitude = _to_float(gps[tags.GPSAltitude]) if tags.GPSAltitude in gps else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if str(gps.get(tags.GPSLatitudeRef, "N")).strip().upper().startswith("S"):
        lat = -lat
    if str(gps.get(tags.GPSLongitudeRef, "E")).strip().upper().startswith("W"):
        lon = -lon
    if altitude is not None and gps.get(tags.GPSAltitudeRef) in (1, b"\x01"):
        altitude = -altitude
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None  # NaN fails the range test too; 0,0 is what cameras write without a fix
    if altitude is not None and altitude != altitude:
        altitude = None
    return GpsPosition(lat=round(lat, 7), lon=round(lon, 7), altitude_m=altitude)


def taken_at(exif: Image.Exif) -> datetime | None:
    """When the camera says the picture was taken (local time of the camera, naive)."""
    try:
        values = exif.get_ifd(ExifTags.IFD.Exif)
    except (KeyError, ValueError, TypeError, OSError):
        values = {}
    raw = values.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


@dataclass(frozen=True)
class PublicImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def public_copy(file: IO[bytes], *, max_side: int | None = None, quality: int = 85) -> PublicImage:
    """A copy for public display: turned upright, only pixels kept (no EXIF, XMP, comments).

    Call it on a picture that passed :func:`check_image`. ``max_side`` shrinks large pictures
    (keeping their proportions) for the citizen page.
    """
    file.seek(0)
    try:
        with Image.open(file) as opened:
            kind = opened.format or "JPEG"
            upright = ImageOps.exif_transpose(opened) or opened
            if kind == "JPEG" or upright.mode not in ("RGB", "RGBA", "L", "LA"):
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                upright = upright.convert("RGBA" if has_alpha and kind != "JPEG" else "RGB")
            if max_side and max(upright.size) > max_side:
                upright = upright.copy()
                upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            # A new image from the pixels alone: nothing of the original's metadata comes along.
            clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())
    finally:
        file.seek(0)
    kind = kind if kind in IMAGE_FORMATS else "JPEG"
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=quality, optimize=True)
    elif kind == "WEBP":
        clean.save(out, "WEBP", quality=quality)
    else:
        clean.save(out, "PNG", optimize=True)
    content_type, extension = IMAGE_FORMATS[kind]
    return PublicImage(out.getvalue(), content_type, extension, clean.width, clean.height)


def public_name(stored_name: str) -> str:
    """Where the public copy of a stored file lives: beside it, ``<name>.public<ext>``.

    Derived from the stored name (ours, never the uploader's), so finding a photo's public copy
    needs no column and no query.
    """
    stem, dot, extension = stored_name.rpartition(".")
    if not dot or "/" in extension:
        return f"{stored_name}.public"
    return f"{stem}.public.{extension}"


def store_public_copy(storage: Storage, stored_name: str, file: IO[bytes], *, max_side: int = 1600) -> str:
    """Write the EXIF-free copy of a checked picture beside the original; its stored name.

    The original stays untouched as evidence (its GPS and time are part of the record); the
    copy is what citizens and Open311 clients get, so no camera, owner or position leaks.
    """
    copy = public_copy(file, max_side=max_side)
    return storage.save(public_name(stored_name), ContentFile(copy.content))


def ensure_public_copy(storage: Storage, stored_name: str) -> str:
    """The stored name of the public copy of ``stored_name``, made now if it is missing (a
    photo stored by a path that did not make one, or one from before public copies)."""
    name = public_name(stored_name)
    if storage.exists(name):
        return name
    with storage.open(stored_name, "rb") as original:
        return store_public_copy(storage, stored_name, original)


_UNSAFE = re.compile(r"[^\w.\-()（）]+", re.UNICODE)
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_filename(name: str, *, default: str = "file", max_length: int = 100) -> str:
    """A file name safe on any disk and in any header: no directories, no control characters.

    Chinese and other letters stay (a handler recognises 照片1.jpg); ``../``, ``C:\\``, NUL,
    leading dots and reserved Windows names do not. The result is never empty and at most
    ``max_length`` characters, the extension kept.
    """
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = _UNSAFE.sub("_", name.strip()).strip("._-")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    # Cut first, strip after: a cut may leave a trailing dot or underscore that a second pass
    # would strip, and the name must come out the same when cleaned twice.
    extension = extension.strip("._-")[:10].strip("._-")
    suffix = f".{extension}" if extension else ""
    stem = stem.strip("._-")[: max(1, max_length - len(suffix))].strip("._-")
    if not stem:
        stem = default
    if stem.upper() in _WINDOWS_RESERVED:
        stem = f"_{stem}"[: max(1, max_length - len(suffix))]
    return stem + suffix
