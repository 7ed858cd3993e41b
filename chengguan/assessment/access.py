"""Who may see and record inspections (检查) — one place, so pages and tests agree.

* Assessors (考评员), system administrators, superusers and holders of
  ``assessment.add_inspection`` record inspections for any unit; inspection staff (巡查员,
  执法队员) record them in their own unit's name.
* Leaders and the command centre read every inspection, never write.
* Everybody else who belongs to a unit (handlers of a department or town, a brigade's staff)
  sees the inspections of their unit: those it received, made, or that charged it a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from chengguan.assessment.models import Finding, Inspection
from chengguan.org.models import OrgUnit, Staff

INSPECTION_ROLES = frozenset({"inspector", "officer"})
READ_ALL_ROLES = frozenset({"assessor", "leader", "operator", "shift_leader", "dispatcher"})


def _staff(user: Any) -> Staff | None:
    staff = getattr(user, "staff", None) if getattr(user, "is_authenticated", False) else None
    return staff if staff is not None and staff.active else None


@dataclass(frozen=True)
class InspectionAccess:
    """What one user may do with inspections."""

    authenticated: bool
    assessor: bool  # records for any unit, reads all
    reads_all: bool
    units: frozenset[int]  # the user's unit and, for a brigade, its town/subdistrict
    inspector: bool  # inspection staff: record in their own unit's name

    @property
    def can_create(self) -> bool:
        return self.assessor or (self.inspector and bool(self.units))

    @property
    def can_see_any(self) -> bool:
        return self.reads_all or bool(self.units)

    def may_inspect_as(self, unit: OrgUnit) -> bool:
        return self.assessor or (self.inspector and unit.pk in self.units)

    def may_add_to(self, inspection: Inspection) -> bool:
        """Findings and checks go on an inspection made by the user's side."""
        return self.can_create and self.may_inspect_as(inspection.inspecting_unit)


def access_of(user: Any) -> InspectionAccess:
    if not getattr(user, "is_authenticated", False):
        return InspectionAccess(False, False, False, frozenset(), False)
    staff = _staff(user)
    role = staff.role if staff else ""
    # System administrators write here as in the security policy's table (Area.INSPECTIONS).
    assessor = bool(
        user.is_superuser
        or user.has_perm("assessment.add_inspection")
        or role in {"assessor", "administrator"}
    )
    units: set[int] = set()
    if staff is not None:
        units.add(staff.unit_id)
        territory = OrgUnit.objects.filter(pk=staff.unit_id).values_list("territory_id", flat=True).first()
        if territory:
            units.add(territory)
    return InspectionAccess(
        authenticated=True,
        assessor=assessor,
        reads_all=assessor or role in READ_ALL_ROLES or user.has_perm("assessment.view_inspection"),
        units=frozenset(units),
        inspector=role in INSPECTION_ROLES,
    )


def visible_inspections(access: InspectionAccess) -> QuerySet[Inspection]:
    qs = Inspection.objects.all()
    if access.reads_all:
        return qs
    if not access.units:
        return qs.none()
    charged = Finding.objects.filter(unit_id__in=access.units).values("inspection_id")
    return qs.filter(
        Q(inspected_unit_id__in=access.units) | Q(inspecting_unit_id__in=access.units) | Q(pk__in=charged)
    )


def visible_findings(access: InspectionAccess) -> QuerySet[Finding]:
    qs = Finding.objects.all()
    if access.reads_all:
        return qs
    if not access.units:
        return qs.none()
    return qs.filter(
        Q(unit_id__in=access.units)
        | Q(inspection__inspected_unit_id__in=access.units)
        | Q(inspection__inspecting_unit_id__in=access.units)
    )
