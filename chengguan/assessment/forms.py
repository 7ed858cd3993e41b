"""Forms of the inspection pages: they parse and check input; the services decide and write.

Each form ends in the service's own validation (``validate_inspection`` / ``validate_finding``)
so a rule is stated once; an :class:`~chengguan.assessment.services.AssessmentError` is shown
against the field it names. Photos are checked by :func:`chengguan.security.uploads.check_image`
(type from the bytes, size limit, pixel limit), and a photo's GPS places a finding entered
without a position.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chengguan.assessment import selectors, services
from chengguan.assessment.access import InspectionAccess
from chengguan.assessment.models import (
    CheckResult,
    Finding,
    Inspection,
    InspectionMode,
    StandardItem,
    StandardStatus,
)
from chengguan.cases.forms import CheckedPhoto, coordinate_field
from chengguan.catalog.models import Category
from chengguan.org.models import OrgUnit, Staff
from chengguan.security.uploads import UploadRejected, check_image

MAX_PHOTOS = 9
ASSESSED_KINDS = (*selectors.TERRITORY_KINDS, *selectors.DEPARTMENT_KINDS)


def apply_error(form: forms.Form, exc: services.AssessmentError, fallback: str | None = None) -> None:
    """Show a service's refusal against the field it names (or above the form)."""
    name = exc.field if exc.field in form.fields else fallback
    form.add_error(name, str(exc))


class UnitField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class ItemField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return (
            f"{obj.code} {obj.title}（{obj.get_tier_display()}，{obj.points} 分/{obj.measure_unit or '处'}）"
        )


def _units() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(active=True).order_by("kind", "code")


class InspectionForm(forms.Form):
    mode = forms.ChoiceField(label=_("检查方式"), choices=InspectionMode.choices)
    title = forms.CharField(label=_("检查名称"), max_length=100)
    inspecting_unit = UnitField(label=_("检查单位"), queryset=OrgUnit.objects.none())
    inspected_unit = UnitField(
        label=_("被检查单位"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=_("对调互查时为被检查的另一单位（辖区）；专项检查跨多个单位时可留空"),
    )
    date = forms.DateField(
        label=_("检查日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    members = forms.CharField(label=_("检查人员"), max_length=200, required=False)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, access: InspectionAccess, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access = access
        inspecting = _units()
        if not access.assessor:
            inspecting = inspecting.filter(pk__in=access.units)
        self.fields["inspecting_unit"].queryset = inspecting  # type: ignore[attr-defined]
        self.fields["inspected_unit"].queryset = _units().filter(kind__in=ASSESSED_KINDS)  # type: ignore[attr-defined]
        # Follow-ups are recorded from the finding they check, so the page offers the other four.
        self.fields["mode"].choices = [c for c in InspectionMode.choices if c[0] != InspectionMode.FOLLOW_UP]  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
            if inspecting.count() == 1:
                self.initial.setdefault("inspecting_unit", inspecting.first())

    def clean_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("检查日期不能晚于今天。"))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            services.validate_inspection(self.to_input())
        except services.AssessmentError as exc:
            apply_error(self, exc)
        return data

    def to_input(self, staff: Staff | None = None) -> services.InspectionInput:
        data = self.cleaned_data
        return services.InspectionInput(
            mode=data["mode"],
            title=data["title"],
            inspecting_unit=data["inspecting_unit"],
            inspected_unit=data.get("inspected_unit"),
            date=data["date"],
            lead_inspector=staff,
            members=data.get("members", ""),
            note=data.get("note", ""),
        )


class PhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input, each checked by content and size; cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", PhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[tuple[CheckedPhoto, tuple[float, float] | None]]:
        uploads: list[UploadedFile] = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if not uploads:
            if self.required:
                raise forms.ValidationError(_("请拍摄或选择现场照片。"), code="required")
            return []
        if len(uploads) > MAX_PHOTOS:
            raise forms.ValidationError(_("一次最多上传 %(n)s 张照片。"), params={"n": MAX_PHOTOS})
        checked = []
        for upload in uploads:
            try:
                image = check_image(upload)
            except UploadRejected as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
            gps = (image.gps.lat, image.gps.lon) if image.gps else None
            checked.append((CheckedPhoto(upload, image.content_type, image.extension), gps))
        return checked


def current_items(inspected: OrgUnit | None) -> QuerySet[StandardItem]:
    """Items of the standard in use, those fitting the inspected unit's track first in mind."""
    items = StandardItem.objects.filter(standard__status=StandardStatus.ACTIVE).select_related("standard")
    if inspected is not None:
        track = services.track_of(inspected)
        if track is not None:
            items = items.filter(Q(track="both") | Q(track=track))
    return items.order_by("order", "code")


class FindingForm(forms.Form):
    item = ItemField(label=_("考评条目"), queryset=StandardItem.objects.none())
    unit = UnitField(
        label=_("责任单位"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=_("留空为被检查单位"),
    )
    quantity = forms.DecimalField(
        label=_("数量"),
        max_digits=10,
        decimal_places=2,
        initial=Decimal(1),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    found_at = forms.DateTimeField(
        label=_("发现时间"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    description = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("现场照片"), required=False)
    lat = coordinate_field(_("纬度"), 90)
    lon = coordinate_field(_("经度"), 180)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    responsible_person = forms.CharField(label=_("直接责任人"), max_length=50, required=False)
    rectify_by = forms.DateField(
        label=_("整改期限"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    create_case = forms.BooleanField(label=_("同时转立案件（进入案件办理流程）"), required=False)
    case_category = forms.ModelChoiceField(
        label=_("立案类别"),
        queryset=Category.objects.none(),
        required=False,
        help_text=_("留空取条目关联的第一个案件类别"),
    )

    def __init__(self, *args: Any, inspection: Inspection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.inspection = inspection
        self.fields["item"].queryset = current_items(inspection.inspected_unit)  # type: ignore[attr-defined]
        self.fields["unit"].queryset = _units().filter(kind__in=ASSESSED_KINDS)  # type: ignore[attr-defined]
        self.fields["case_category"].queryset = Category.objects.filter(active=True).order_by("code")  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("found_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_rectify_by(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("rectify_by")
        if day is not None and day < self.inspection.date:
            raise forms.ValidationError(_("整改期限不能早于检查日期。"))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None) and "lat" not in self.errors and "lon" not in self.errors:
            self.add_error("lat", _("经纬度必须同时填写，请重新定位或在地图上选点。"))
        if lat is None and lon is None and "photos" not in self.errors:
            # The phone's camera may have written the place into the photo.
            for _photo, gps in data.get("photos") or []:
                if gps is not None:
                    data["lat"], data["lon"] = gps
                    break
        if (
            data.get("lat") is None
            and not (data.get("address") or "").strip()
            and "address" not in self.errors
        ):
            self.add_error("address", _("请定位、在地图上选点或填写地址。"))
        if self.errors:
            return data
        try:
            services.validate_finding(self.inspection, self.to_input())
        except services.AssessmentError as exc:
            apply_error(self, exc)
        return data

    def to_input(self) -> services.FindingInput:
        data = self.cleaned_data
        return services.FindingInput(
            item=data["item"],
            found_at=data["found_at"],
            unit=data.get("unit"),
            quantity=data["quantity"],
            description=data["description"],
            address=data.get("address", ""),
            lat=data.get("lat"),
            lon=data.get("lon"),
            responsible_person=data.get("responsible_person", ""),
            rectify_by=data.get("rectify_by"),
            create_case=bool(data.get("create_case")),
            case_category=data.get("case_category"),
            photos=[photo for photo, _gps in data.get("photos") or []],
        )


class FollowUpForm(forms.Form):
    """追踪督查 of one finding: who checked, when, and whether it was put right."""

    inspecting_unit = UnitField(label=_("督查单位"), queryset=OrgUnit.objects.none())
    date = forms.DateField(
        label=_("督查日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    result = forms.ChoiceField(label=_("整改结果"), choices=CheckResult.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    penalize = forms.BooleanField(label=_("未整改的按原条目再次扣分"), required=False, initial=True)

    def __init__(self, *args: Any, access: InspectionAccess, finding: Finding, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.finding = finding
        units = _units()
        if not access.assessor:
            units = units.filter(pk__in=access.units)
        self.fields["inspecting_unit"].queryset = units  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
            self.initial.setdefault("inspecting_unit", finding.inspection.inspecting_unit_id)
