"""Reads of the org chart: snapshots the import rules compare against, and export tables."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import translation

from chengguan.core.tabular import write_table
from chengguan.org.models import TERRITORIAL_KINDS, FunctionalDomain, OrgUnit, Staff, StaffRole, UnitKind
from chengguan.org.rules import (
    DOMAIN_SEPARATOR,
    STAFF_COLUMNS,
    UNIT_COLUMNS,
    StaffRecord,
    UnitRecord,
    UnitSchema,
    yes_no,
)

# Tables are exchanged in Chinese whatever language the clerk's screen shows, so an export
# made from the English admin still re-imports.
TABLE_LANGUAGE = "zh-hans"


def _labels(choices: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    with translation.override(TABLE_LANGUAGE):
        return [(value, str(label)) for value, label in choices]


def unit_schema() -> UnitSchema:
    return UnitSchema(
        kinds=_labels(UnitKind.choices),
        territorial=frozenset(str(kind) for kind in TERRITORIAL_KINDS),
        needs_territory=frozenset({str(UnitKind.BRIGADE)}),
    )


def staff_roles() -> list[tuple[str, str]]:
    return _labels(StaffRole.choices)


def domain_lookup() -> dict[str, str]:
    """Every spelling of a functional domain an import accepts (name or code) -> its name."""
    lookup: dict[str, str] = {}
    for code, name in FunctionalDomain.objects.values_list("code", "name"):
        lookup[code] = name
        lookup[name] = name
    return lookup


def _domain_names_by_unit(unit_ids: Iterable[int] | None = None) -> dict[int, list[str]]:
    through = OrgUnit.domains.through.objects.all()
    if unit_ids is not None:
        through = through.filter(orgunit_id__in=list(unit_ids))
    names: dict[int, list[str]] = {}
    rows = through.order_by("functionaldomain__order", "functionaldomain__code").values_list(
        "orgunit_id", "functionaldomain__name"
    )
    for unit_id, name in rows:
        names.setdefault(unit_id, []).append(name)
    return names


def unit_records() -> dict[str, UnitRecord]:
    """All stored units as the import rules see them, in two queries."""
    domains = _domain_names_by_unit()
    records: dict[str, UnitRecord] = {}
    rows = OrgUnit.objects.values(
        "id",
        "code",
        "name",
        "short_name",
        "kind",
        "parent__code",
        "territory__code",
        "committee_member",
        "in_grid",
        "contact_phone",
        "address",
        "active",
    )
    for row in rows:
        records[row["code"]] = UnitRecord(
            code=row["code"],
            name=row["name"],
            short_name=row["short_name"],
            kind=row["kind"],
            parent=row["parent__code"],
            territory=row["territory__code"],
            domains=frozenset(domains.get(row["id"], [])),
            committee_member=row["committee_member"],
            in_grid=row["in_grid"],
            contact_phone=row["contact_phone"],
            address=row["address"],
            active=row["active"],
        )
    return records


def staff_records() -> dict[str, StaffRecord]:
    rows = Staff.objects.values("code", "name", "role", "unit__code", "phone", "active", "user__username")
    return {
        row["code"]: StaffRecord(
            code=row["code"],
            name=row["name"],
            role=row["role"],
            unit=row["unit__code"],
            phone=row["phone"],
            active=row["active"],
            user=row["user__username"],
        )
        for row in rows
    }


def unit_codes() -> set[str]:
    return set(OrgUnit.objects.values_list("code", flat=True))


def usernames() -> set[str]:
    user_model = get_user_model()
    return set(user_model.objects.values_list(user_model.USERNAME_FIELD, flat=True))


def unit_export_rows(units: QuerySet[OrgUnit] | None = None) -> Iterator[list[Any]]:
    """Rows under ``UNIT_COLUMNS`` in code order; an export re-imports unchanged."""
    queryset = (units if units is not None else OrgUnit.objects.all()).select_related("parent", "territory")
    queryset = queryset.order_by("code")
    ids = None if units is None else queryset.values_list("id", flat=True)
    domains = _domain_names_by_unit(ids)
    kinds = dict(unit_schema().kinds)
    for unit in queryset:
        yield [
            unit.code,
            unit.name,
            unit.short_name,
            kinds.get(unit.kind, unit.kind),
            unit.parent.code if unit.parent else "",
            unit.territory.code if unit.territory else "",
            DOMAIN_SEPARATOR.join(domains.get(unit.pk, [])),
            yes_no(unit.committee_member),
            yes_no(unit.in_grid),
            unit.contact_phone,
            unit.address,
            yes_no(unit.active),
        ]


def staff_export_rows(staff: QuerySet[Staff] | None = None) -> Iterator[list[Any]]:
    queryset = (staff if staff is not None else Staff.objects.all()).select_related("unit", "user")
    roles = dict(staff_roles())
    for person in queryset.order_by("code"):
        yield [
            person.code,
            person.name,
            roles.get(person.role, person.role),
            person.unit.code,
            person.phone,
            yes_no(person.active),
            person.user.get_username() if person.user else "",
        ]


def units_table(fmt: str, units: QuerySet[OrgUnit] | None = None) -> bytes:
    return write_table(UNIT_COLUMNS, unit_export_rows(units), fmt)


def staff_table(fmt: str, staff: QuerySet[Staff] | None = None) -> bytes:
    return write_table(STAFF_COLUMNS, staff_export_rows(staff), fmt)
