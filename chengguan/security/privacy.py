"""Masking of citizens' personal data and the audit of every unmasked view.

Lists, exports and the public API show ``mask_name``/``mask_phone``/``mask_email``; a page that
shows the real values to a role that needs them calls :func:`log_personal_data_view` first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest

MASK = "*"
PERSONAL_FIELDS = ("name", "phone", "email")
FIELD_LABELS = {"name": "姓名", "phone": "电话", "email": "邮箱"}


def mask_name(name: str) -> str:
    """张三丰 → 张**, John Smith → J*** *****: the first character stays, spaces stay."""
    name = name.strip()
    if not name:
        return ""
    if len(name) == 1:
        return MASK
    return name[0] + "".join(char if char.isspace() else MASK for char in name[1:])


def _phone_visible(count: int) -> tuple[int, int]:
    """How many leading and trailing digits of a number with ``count`` digits stay visible."""
    suffix = 4 if count >= 8 else count // 3
    prefix = 3 if count >= 11 else 0
    return prefix, suffix


def mask_phone(phone: str) -> str:
    """13912341234 → 139****1234, 0476-888888 → ****-**8888: separators stay, masks count as digits.

    Of a number with n digit positions, at most the first 3 (only when n ≥ 11) and the last 4
    (last n // 3 when n < 8) stay visible; everything between is masked. Masking twice gives the
    same text.
    """
    phone = phone.strip()
    positions = [i for i, char in enumerate(phone) if char.isdigit() or char == MASK]
    prefix, suffix = _phone_visible(len(positions))
    hidden = set(positions[prefix : len(positions) - suffix])
    # Any stray digit-like characters (full-width digits) are covered by isdigit above.
    return "".join(MASK if i in hidden else char for i, char in enumerate(phone))


def mask_email(email: str) -> str:
    """zhangsan@example.com → z*******@example.com (the domain stays)."""
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at:
        return mask_name(email)
    if len(local) <= 1:
        return MASK * len(local) + at + domain
    return local[0] + MASK * (len(local) - 1) + at + domain


def mask_contact(name: str = "", phone: str = "", email: str = "") -> dict[str, str]:
    return {"name": mask_name(name), "phone": mask_phone(phone), "email": mask_email(email)}


# Numbers a citizen may type into a description: mobiles (11 digits from 1[3-9]), +86 mobiles
# and landlines with an area code (0xx-xxxxxxxx), with spaces or hyphens between the groups.
# Digits glued to other digits are not a phone number (case codes, coordinates).
_D = "[0-9０-９]"  # full-width digits too: Chinese input methods type them
PHONE_IN_TEXT = re.compile(
    rf"(?<!{_D})(?:(?:[+＋]?[8８][6６][ -]?)?[1１][3-9３-９]{_D}(?:[ -]?{_D}){{8}}"
    rf"|[0０][1-9１-９]{_D}{{1,2}}[ -]?{_D}{{7,8}})(?!{_D})"
)


def mask_phones_in_text(text: str) -> str:
    """Every phone number written in free text masked as :func:`mask_phone` masks a number."""
    if not text:
        return text
    return PHONE_IN_TEXT.sub(lambda match: mask_phone(match.group(0)), text)


# What the case history calls a citizen who acts without giving a name.
ANONYMOUS_CITIZEN_NAMES = frozenset({"", "举报人", "市民"})


def shown_actor_name(name: str, role: str) -> str:
    """An event's actor as lists show it: a citizen's own name is masked, staff names are not
    (staff act in office, citizens do not)."""
    if role == "citizen" and name not in ANONYMOUS_CITIZEN_NAMES:
        return mask_name(name)
    return name


def contact_of(case: Any) -> Any:
    """The case's citizen contact record, or None (a patrol report has none)."""
    from chengguan.cases.models import CitizenContact

    try:
        return case.citizen
    except CitizenContact.DoesNotExist:
        return None


def contact_shown(contact: Any, *, reveal: bool) -> dict[str, Any] | None:
    """A contact as an answer carries it: masked unless ``reveal`` (the caller logs a reveal)."""
    if contact is None or not (contact.name or contact.phone or contact.email):
        return None
    if reveal:
        return {"name": contact.name, "phone": contact.phone, "email": contact.email, "revealed": True}
    return {**mask_contact(contact.name, contact.phone, contact.email), "revealed": False}


def shown_fields(contact: Any) -> list[str]:
    """The personal fields a contact actually holds (what a reveal shows and logs)."""
    return [name for name in PERSONAL_FIELDS if getattr(contact, name, "")]


def normalised(text: str) -> str:
    """NFKC form (full-width digits become ASCII) for comparisons in tests and searches."""
    return unicodedata.normalize("NFKC", text)


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or None


def log_personal_data_view(
    user: Any,
    case: Any,
    fields: Iterable[str],
    where: str,
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Any:
    """Record that ``user`` was shown ``fields`` (name/phone/email) of ``case``'s citizen at ``where``.

    Call it where the unmasked values are put on a page, in an export or an API answer, in the
    same request; ``where`` names the page or endpoint (e.g. ``"web:case"`` or the path).
    """
    from chengguan.security.models import PersonalDataAccess

    shown = sorted({str(field) for field in fields})
    unknown = [field for field in shown if field not in PERSONAL_FIELDS]
    if unknown:
        raise ValueError(f"unknown personal data field(s): {', '.join(unknown)}")
    if not shown:
        raise ValueError("log_personal_data_view needs at least one field")
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return PersonalDataAccess.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        case=case,
        case_code=getattr(case, "code", "") or "",
        fields=shown,
        where=where[:200],
        reason=reason[:200],
        ip_address=_client_ip(request),
    )
