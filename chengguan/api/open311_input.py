"""Reading an Open311 POST: form fields in, a case-service input out, or the spec's error.

Shape only (presence, types, lengths, the service definition's attributes); whether the point
is in the district and every other rule is the case service's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.dateparse import parse_datetime

from chengguan.api import queries
from chengguan.api.models import Datatype, ServiceAttribute
from chengguan.api.open311_format import parse_service_code
from chengguan.cases.services import CitizenInfo
from chengguan.catalog.models import Category

ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,40})\](\[\])?$")
PHONE = re.compile(r"^[0-9+\-() ]{3,20}$")
_url = URLValidator(schemes=["http", "https"])


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


@dataclass
class ParsedRequest:
    category: Category
    description: str
    lat: float | None
    lon: float | None
    address: str
    citizen: CitizenInfo
    media_url: str = ""
    device_id: str = ""
    account_id: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps tab and line breaks


def optional(data: Any, name: str) -> str:
    """The spec's "optional": an empty parameter is the same as an absent one. Control
    characters (NUL above all, which PostgreSQL text cannot hold) are dropped."""
    value = data.get(name)
    return CONTROL.sub("", str(value)).strip() if value is not None else ""


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number")
    return value


def _limit(name: str, value: str, length: int) -> str:
    if len(value) > length:
        raise Open311Error(400, f"{name} is longer than {length} characters")
    return value


def category_for(code: str) -> Category:
    if not code:
        raise Open311Error(400, "service_code was not provided")
    parsed = parse_service_code(code)
    category = queries.open311_category(*parsed) if parsed else None
    if category is None:
        raise Open311Error(404, f"service_code {code[:40]} was not found")
    return category


def _attribute_values(data: Any) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key in data:
        match = ATTRIBUTE_KEY.match(str(key))
        if match:
            got = [str(v).strip() for v in data.getlist(key) if str(v).strip()]
            if got:
                values.setdefault(match.group(1), []).extend(got)
    return values


def _check_attribute(attr: ServiceAttribute, given: list[str]) -> Any:
    name = f"attribute[{attr.code}]"
    if attr.datatype == Datatype.MULTI:
        bad = [v for v in given if v not in attr.value_keys()]
        if bad:
            raise Open311Error(400, f"{name}: {bad[0][:40]} is not one of the listed values")
        return given
    if len(given) > 1:
        raise Open311Error(400, f"{name} takes one value")
    value = given[0]
    if attr.datatype == Datatype.SINGLE:
        if value not in attr.value_keys():
            raise Open311Error(400, f"{name}: {value[:40]} is not one of the listed values")
        return value
    if attr.datatype == Datatype.NUMBER:
        return _number(name, value)
    if attr.datatype == Datatype.DATETIME:
        moment = parse_datetime(value)
        if moment is None or moment.tzinfo is None:
            raise Open311Error(400, f"{name} must be a W3C datetime with a time zone")
        return moment.isoformat()
    return _limit(name, value, 4000 if attr.datatype == Datatype.TEXT else 200)


def attributes_for(category: Category, data: Any) -> dict[str, Any]:
    given = _attribute_values(data)
    answers: dict[str, Any] = {}
    for attr in queries.attributes_of(category):
        if not attr.variable:
            continue
        values = given.get(attr.code)
        if not values:
            if attr.required:
                raise Open311Error(400, f"attribute[{attr.code}] is required for this service_code")
            continue
        answers[attr.code] = _check_attribute(attr, values)
    return answers


def _name(first: str, last: str) -> str:
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return f"{last}{first}"  # 姓 + 名
    return f"{first} {last}".strip()


def parse(data: Any) -> ParsedRequest:
    """The POST form (``data``) → ParsedRequest, or Open311Error(status, description)."""
    category = category_for(optional(data, "service_code"))
    lat_raw, lon_raw = optional(data, "lat"), optional(data, "long")
    address = _limit("address_string", optional(data, "address_string"), 200)
    address_id = optional(data, "address_id")
    lat = lon = None
    if lat_raw or lon_raw:
        if not (lat_raw and lon_raw):
            raise Open311Error(400, "lat and long must both be provided")
        lat, lon = _number("lat", lat_raw), _number("long", lon_raw)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Open311Error(400, "lat/long are outside WGS-84 ranges")
    elif not address:
        if address_id:
            raise Open311Error(400, "address_id is not supported here: send lat and long, or address_string")
        raise Open311Error(400, "a location was not provided: send lat and long, or address_string")
    description = _limit("description", optional(data, "description"), 4000) or category.name
    email = _limit("email", optional(data, "email"), 254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, "email is not a valid e-mail address") from None
    phone = optional(data, "phone")
    if phone and not PHONE.match(phone):
        raise Open311Error(400, "phone is not a valid phone number")
    name = _limit(
        "first_name/last_name", _name(optional(data, "first_name"), optional(data, "last_name")), 50
    )
    media_url = _limit("media_url", optional(data, "media_url"), 500)
    if media_url:
        try:
            _url(media_url)
        except ValidationError:
            raise Open311Error(400, "media_url is not a valid http(s) URL") from None
    return ParsedRequest(
        category=category,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        citizen=CitizenInfo(name=name, phone=phone, email=email),
        media_url=media_url,
        device_id=_limit("device_id", optional(data, "device_id"), 100),
        account_id=_limit("account_id", optional(data, "account_id"), 100),
        attributes=attributes_for(category, data),
    )
