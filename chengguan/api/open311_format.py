"""Open311 GeoReport v2 documents in both formats.

The JSON is the "Spark convention" mapping of the XML: what is a repeated child element in
XML is a bare JSON array. Every datetime carries its offset (W3C format); every response is
UTF-8 with the XML declaration.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.utils import timezone

from chengguan.api.models import ServiceAttribute
from chengguan.cases.models import CaseEvent
from chengguan.cases.selectors import PUBLIC_ACTIONS, PUBLIC_STATUS
from chengguan.cases.workflow import FINAL, Status
from chengguan.catalog.models import Category, CategoryKind
from chengguan.security.privacy import mask_phones_in_text

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"

KIND_PREFIX = {CategoryKind.COMPONENT: "C", CategoryKind.MATTER: "M"}
PREFIX_KIND = {v: k for k, v in KIND_PREFIX.items()}

# The XML element of each item of a list, by the list's element.
ITEM_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "service_request_updates": "request_update",
}

# Public wording of states and steps: the same as the citizen's follow-up page.
STATUS_NOTES = PUBLIC_STATUS


def service_code(category: Category) -> str:
    """``M06010`` for matter 06010, ``C01001`` for component 01001 (codes repeat across kinds)."""
    return KIND_PREFIX[CategoryKind(category.kind)] + category.code


def parse_service_code(code: str) -> tuple[str, str] | None:
    code = code.strip()
    if len(code) != 6 or code[0] not in PREFIX_KIND or not code[1:].isdigit():
        return None
    return PREFIX_KIND[code[0]], code[1:]


def w3c(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def open_or_closed(status: str) -> str:
    return "closed" if Status(status) in FINAL else "open"


# -- documents -------------------------------------------------------------------------------


def service_doc(category: Category, has_metadata: bool) -> dict[str, Any]:
    keywords = [category.major_name, category.get_kind_display()]
    if category.domain is not None:
        keywords.append(category.domain.name)
    return {
        "service_code": service_code(category),
        "service_name": category.name,
        "description": f"{category.get_kind_display()} · {category.major_name} · {category.name}",
        "metadata": has_metadata,
        "type": "realtime",
        "keywords": ",".join(str(k) for k in keywords),
        "group": category.major_name,
    }


def definition_doc(category: Category, attributes: list[ServiceAttribute]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    if category.registration_criteria.strip():
        items.append(
            {
                "variable": False,
                "code": "registration_criteria",
                "datatype": "text",
                "required": False,
                "datatype_description": None,
                "description": f"立案条件：{category.registration_criteria.strip()}",
                "values": [],
            }
        )
    for attr in attributes:
        items.append(
            {
                "variable": attr.variable,
                "code": attr.code,
                "datatype": attr.datatype,
                "required": attr.required,
                "datatype_description": attr.datatype_description or None,
                "description": attr.description,
                "values": [
                    {"key": str(v.get("key")), "name": str(v.get("name", v.get("key")))}
                    for v in attr.values or []
                    if isinstance(v, dict)
                ],
            }
        )
    for order, item in enumerate(items, start=1):
        item["order"] = order
    return {"service_code": service_code(category), "attributes": items}


def request_doc(row: dict[str, Any]) -> dict[str, Any]:
    """One service request from a row of ``queries.REQUEST_COLUMNS``."""
    status = Status(row["status"])
    closed = status in FINAL
    return {
        "service_request_id": row["code"],
        "status": "closed" if closed else "open",
        "status_notes": str(STATUS_NOTES[status]),
        "service_name": row["category__name"],
        "service_code": KIND_PREFIX[CategoryKind(row["category__kind"])] + row["category__code"],
        # Open311 has no field for the citizen's contact, but the description is free text
        # the citizen (or a hotline operator) wrote: numbers typed into it are masked.
        "description": mask_phones_in_text(row["description"]) or None,
        "agency_responsible": row["lead_unit__name"],
        "service_notice": None,
        "requested_datetime": w3c(row["reported_at"]),
        "updated_datetime": w3c(row["closed_at"] if closed and row["closed_at"] else row["updated_at"]),
        "expected_datetime": None if closed else w3c(row["handle_deadline"] or row["deadline"]),
        "address": row["address"] or None,
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row["open311__media_url"] or None,
    }


def update_doc(event: CaseEvent, case_code: str) -> dict[str, Any]:
    return {
        "update_id": str(event.pk),
        "service_request_id": case_code,
        "status": open_or_closed(event.to_status),
        "updated_datetime": w3c(event.at),
        "description": str(PUBLIC_ACTIONS.get(event.action, event.label)),
        "media_url": None,
        "external_status_code": event.to_status,
    }


# -- serialisation ---------------------------------------------------------------------------


# Characters XML 1.0 cannot carry at all (a pasted control character must not break the
# document for every client reading the list).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(_NOT_XML.sub("", str(value)))


def _element(tag: str, value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for key, child in value.items():
            _element(key, child, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        out.append(f"<{tag}>")
        item_tag = ITEM_TAGS.get(tag, "item")
        for child in value:
            _element(item_tag, child, out)
        out.append(f"</{tag}>")
    elif value is None:
        out.append(f"<{tag}/>")
    else:
        out.append(f"<{tag}>{_text(value)}</{tag}>")


def to_xml(root: str, value: Any) -> bytes:
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    _element(root, value, out)
    return "".join(out).encode("utf-8")


def respond(fmt: str, root: str, value: Any, status: int = 200) -> HttpResponse:
    """``value`` as JSON (lists bare) or as XML under ``root``."""
    if fmt == "xml":
        return HttpResponse(to_xml(root, value), content_type=XML_TYPE, status=status)
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body.encode("utf-8"), content_type=JSON_TYPE, status=status)


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)
