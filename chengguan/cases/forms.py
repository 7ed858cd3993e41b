"""Forms of the case pages: they parse and check input, the services decide.

Every photo goes through :mod:`chengguan.security.uploads`: its type comes from its content
(JPEG, PNG or WebP that Pillow decodes), its size is limited (``CHENGGUAN_MAX_UPLOAD_MB``, 10 MB
unless set), its EXIF position can place an inspector's report, and it is stored under a name
of our own through Django's storage API (by the case services); citizens and Open311 clients
get only its EXIF-free public copy (``uploads.ensure_public_copy``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from chengguan.cases import selectors
from chengguan.cases.models import Case, Channel
from chengguan.cases.services import CitizenInfo, ReportInput, TransitionInput
from chengguan.cases.workflow import Transition
from chengguan.catalog.models import Category
from chengguan.org.models import OrgUnit, Staff
from chengguan.security import uploads
from chengguan.security.uploads import GpsPosition, UploadRejected

# Kept for the pages that name the accepted types; the checks themselves live in uploads.
PHOTO_FORMATS = uploads.IMAGE_FORMATS
MAX_PHOTOS = 9


def max_upload_bytes() -> int:
    return uploads.max_upload_bytes()


@dataclass  # not frozen: it must satisfy services.PhotoLike, whose attributes are plain
class CheckedPhoto:
    upload: UploadedFile
    content_type: str
    extension: str
    gps: GpsPosition | None = None
    size: int = 0


def check_photo(upload: UploadedFile) -> CheckedPhoto:
    """The upload if it is a real JPEG/PNG/WebP picture within the size limit."""
    try:
        checked = uploads.check_image(upload)
    except UploadRejected as error:
        # The message already names the file in the person's language.
        raise forms.ValidationError(error.message, code=error.code) from None
    return CheckedPhoto(upload, checked.content_type, checked.extension, checked.gps, checked.size)


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; cleans to a list of :class:`CheckedPhoto`."""

    widget = MultiplePhotoInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CheckedPhoto]:
        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if not uploads:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(uploads) > MAX_PHOTOS:
            raise forms.ValidationError(_("一次最多上传 %(n)s 张照片。"), params={"n": MAX_PHOTOS})
        return [check_photo(upload) for upload in uploads]


PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.name}"


def coordinate_field(label: Any, bound: int) -> forms.FloatField:
    """An optional WGS-84 latitude (bound 90) or longitude (bound 180), filled by the phone's
    GPS or a map pick; shared by every form that takes a place."""
    return forms.FloatField(
        label=label,
        required=False,
        min_value=-bound,
        max_value=bound,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class LocationMixin(forms.Form):
    lat = coordinate_field(_("纬度"), 90)
    lon = coordinate_field(_("经度"), 180)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None) and "lat" not in self.errors and "lon" not in self.errors:
            self.add_error("lat", _("经纬度必须同时填写，请重新定位或在地图上选点。"))
        if lat is None and lon is None and not (data.get("address") or "").strip():
            if "address" not in self.errors:
                self.add_error("address", _("请定位、在地图上选点或填写地址。"))
        return data


class ReportForm(LocationMixin):
    """An inspector's report from the field (巡查上报)."""

    category = CategoryChoiceField(
        label=_("问题类别"),
        queryset=Category.objects.none(),
        error_messages={"required": _("请选择问题类别。"), "invalid_choice": _("请选择有效的问题类别。")},
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写问题描述。")},
    )
    self_handled = forms.BooleanField(label=_("当场自行处置"), required=False)
    photos = PhotosField(
        label=_("现场照片"),
        required=False,
        help_text=_("未定位也未在地图上选点时，以照片中记录的拍摄位置（GPS）作为案件位置。"),
    )

    field_order = ["category", "description", "photos", "lat", "lon", "address", "self_handled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.category_choices()  # type: ignore[attr-defined]
        self.location_from_photo = False

    def clean(self) -> dict[str, Any]:
        # A phone photo knows where it was taken: with no fix and no map pick, the first photo
        # that carries a GPS position places the case (before the mixin asks for a place).
        data = self.cleaned_data
        no_point = data.get("lat") is None and data.get("lon") is None
        if no_point and "lat" not in self.errors and "lon" not in self.errors:
            for photo in data.get("photos") or []:
                if photo.gps is not None:
                    data["lat"], data["lon"] = photo.gps.lat, photo.gps.lon
                    self.location_from_photo = True
                    break
        return super().clean()

    def to_input(self, staff: Staff, user: Any) -> ReportInput:
        data = self.cleaned_data
        territory = staff.unit.territory if staff.unit.territory_id else None
        if territory is None and staff.unit.is_territory:
            territory = staff.unit
        return ReportInput(
            category=data["category"],
            description=data["description"],
            channel=Channel.PATROL,
            lat=data.get("lat"),
            lon=data.get("lon"),
            address=data.get("address") or "",
            reporter_staff=staff,
            reporter_user=user,
            self_handled=bool(data.get("self_handled")),
            territory=territory,
        )


class ComplaintForm(LocationMixin):
    """A citizen's complaint from the public page (市民投诉)."""

    category = CategoryChoiceField(
        label=_("问题类别"),
        queryset=Category.objects.none(),
        error_messages={"required": _("请选择问题类别。"), "invalid_choice": _("请选择有效的问题类别。")},
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请描述您看到的问题。")},
    )
    name = forms.CharField(label=_("姓名（可不填）"), max_length=50, required=False)
    phone = forms.CharField(label=_("电话（可不填）"), max_length=20, required=False)
    photos = PhotosField(label=_("照片（可不传）"), required=False)

    field_order = ["category", "description", "photos", "lat", "lon", "address", "name", "phone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.category_choices(public_only=True)  # type: ignore[attr-defined]

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if phone and not PHONE.match(phone):
            raise forms.ValidationError(_("电话号码格式不正确。"))
        return phone

    def to_input(self) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            category=data["category"],
            description=data["description"],
            channel=Channel.WEB,
            lat=data.get("lat"),
            lon=data.get("lon"),
            address=data.get("address") or "",
            citizen=CitizenInfo(name=data.get("name") or "", phone=data.get("phone") or ""),
        )


# Extra inputs each action asks for (besides the note and the case version). A page renders
# these for the transitions ``workflow.available`` offers; it never decides which ones show.
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "send_verify": ("inspector",),
    "send_check": ("inspector",),
    "dispatch": ("lead_unit",),
    "mark_duplicate": ("duplicate_of",),
    "request_extension": ("extension_hours",),
    "approve_extension": ("extension_hours",),
    "confirm": ("photos",),
    "deny": ("photos",),
    "report_back": ("photos",),
    "check_pass": ("photos",),
    "check_fail": ("photos",),
}
# Which inputs an action cannot do without on the web form.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "send_verify": ("inspector",),
    "send_check": ("inspector",),
    "mark_duplicate": ("duplicate_of",),
    "request_extension": ("extension_hours",),
    "report_back": ("photos",),
}
# What kind of photo an action's pictures are.
PHOTO_KIND: dict[str, str] = {
    "report_back": "after",
    "confirm": "evidence",
    "deny": "evidence",
    "check_pass": "evidence",
    "check_fail": "evidence",
}
REQUIRED_MESSAGES: dict[str, str] = {
    "inspector": "请选择负责到场的巡查员。",
    "duplicate_of": "请填写或选择与之重复的原案件编号。",
    "extension_hours": "请填写申请延期的工作时数。",
    "photos": "请上传处置后照片。",
    "note": "请填写说明（原因或意见）。",
}


class InspectorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.get_role_display()}，{obj.unit.short_name or obj.unit.name}）"


class TransitionForm(forms.Form):
    """One workflow action on one case, carrying the version the form was drawn from."""

    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    note = forms.CharField(
        label=_("说明"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    inspector = InspectorChoiceField(label=_("巡查员"), queryset=Staff.objects.none(), required=False)
    lead_unit = forms.ModelChoiceField(
        label=_("主办单位"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("按责任矩阵自动派遣"),
    )
    duplicate_of = forms.CharField(label=_("原案件编号"), max_length=20, required=False)
    extension_hours = forms.DecimalField(
        label=_("延期工作时数"),
        required=False,
        min_value=Decimal("0.5"),
        max_value=Decimal(2000),
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    photos = PhotosField(label=_("照片"), required=False)

    def __init__(
        self,
        *args: Any,
        transition: Transition,
        case: Case,
        inspectors: list[Staff] | None = None,
        units: list[OrgUnit] | None = None,
        **kwargs: Any,
    ) -> None:
        # Several cases' forms share a page: ids carry the case and the action; names stay plain.
        kwargs.setdefault("auto_id", f"c{case.pk}-{transition.action}-%s")
        kwargs.setdefault("initial", {"action": transition.action, "version": case.version})
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.case = case
        wanted = ACTION_FIELDS.get(transition.action, ())
        for name in ("inspector", "lead_unit", "duplicate_of", "extension_hours", "photos"):
            if name not in wanted:
                del self.fields[name]
        inspector_field = self.fields.get("inspector")
        if isinstance(inspector_field, InspectorChoiceField):
            staff_qs = Staff.objects.filter(active=True).select_related("unit")
            if inspectors is None:
                inspector_field.queryset = staff_qs
            else:
                inspector_field.queryset = staff_qs.filter(pk__in=[s.pk for s in inspectors])
                # Options from the list we already hold: no second query to draw them.
                inspector_field.choices = [("", "---------")] + [
                    (str(s.pk), inspector_field.label_from_instance(s)) for s in inspectors
                ]
        unit_field = self.fields.get("lead_unit")
        if isinstance(unit_field, forms.ModelChoiceField):
            unit_qs = OrgUnit.objects.filter(active=True)
            if units is None:
                unit_field.queryset = unit_qs
            else:
                unit_field.queryset = unit_qs.filter(pk__in=[u.pk for u in units])
                unit_field.choices = [("", str(_("按责任矩阵自动派遣")))] + [
                    (str(u.pk), u.name) for u in units
                ]
        for name in REQUIRED_FIELDS.get(transition.action, ()):
            if name in self.fields:
                self.fields[name].required = True
                self.fields[name].error_messages["required"] = REQUIRED_MESSAGES[name]
        if transition.needs_note:
            self.fields["note"].required = True
            self.fields["note"].error_messages["required"] = REQUIRED_MESSAGES["note"]
        if transition.action == "report_back":
            self.fields["photos"].label = _("处置后照片")

    @property
    def extra_fields(self) -> list[forms.BoundField]:
        return [
            self[name]
            for name in ("inspector", "lead_unit", "duplicate_of", "extension_hours")
            if name in self.fields
        ]

    def clean_action(self) -> str:
        action = self.cleaned_data["action"]
        if action != self.transition.action:
            raise forms.ValidationError(_("操作与表单不符。"))
        return str(action)

    def clean_duplicate_of(self) -> Case | None:
        code = (self.cleaned_data.get("duplicate_of") or "").strip()
        if not code:
            return None
        original = selectors.case_by_code(code)
        if original is None:
            raise forms.ValidationError(_("找不到编号为“%(code)s”的案件。"), params={"code": code})
        if original.pk == self.case.pk:
            raise forms.ValidationError(_("不能标记为与自身重复。"))
        return original

    def to_input(self) -> TransitionInput:
        data = self.cleaned_data
        return TransitionInput(
            action=self.transition.action,
            note=data.get("note") or "",
            expected_version=data["version"],
            lead_unit=data.get("lead_unit"),
            inspector=data.get("inspector"),
            extension_hours=data.get("extension_hours"),
            duplicate_of=data.get("duplicate_of"),
        )

    @property
    def checked_photos(self) -> list[CheckedPhoto]:
        return list(self.cleaned_data.get("photos") or [])

    @property
    def photo_kind(self) -> str:
        return PHOTO_KIND.get(self.transition.action, "evidence")


class FollowForm(forms.Form):
    code = forms.CharField(
        label=_("案件编号"), max_length=20, error_messages={"required": _("请填写案件编号。")}
    )
    token = forms.CharField(
        label=_("查询码"), max_length=40, error_messages={"required": _("请填写查询码。")}
    )


class RateForm(FollowForm):
    satisfaction = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[
            (5, _("非常满意")),
            (4, _("满意")),
            (3, _("基本满意")),
            (2, _("不满意")),
            (1, _("非常不满意")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意度。")},
    )
    note = forms.CharField(label=_("意见（可不填）"), max_length=500, required=False)


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False)
    category = CategoryChoiceField(
        label=_("类别"), queryset=Category.objects.none(), required=False, empty_label=_("全部类别")
    )
    territory = forms.ModelChoiceField(
        label=_("镇街"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("全部镇街")
    )
    light = forms.ChoiceField(label=_("时限"), required=False)
    channel = forms.ChoiceField(label=_("来源"), required=False)
    q = forms.CharField(label=_("编号或地址"), max_length=60, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, territories: list[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from chengguan.cases.workflow import STATUS_LABELS

        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (selectors.OPEN_FILTER, _("未结案件")),
            (selectors.ALL_FILTER, _("全部案件")),
        ] + [(s.value, label) for s, label in STATUS_LABELS.items()]
        self.fields["category"].queryset = selectors.category_choices().only(  # type: ignore[attr-defined]
            "id", "code", "name"
        )
        self.fields["territory"].queryset = OrgUnit.objects.filter(pk__in=[t.pk for t in territories])  # type: ignore[attr-defined]
        self.fields["territory"].choices = [("", _("全部镇街"))] + [(t.pk, t.name) for t in territories]  # type: ignore[attr-defined]
        self.fields["light"].choices = [("", _("全部"))] + [  # type: ignore[attr-defined]
            (k.value, v) for k, v in selectors.LIGHT_FILTER_LABELS.items()
        ]
        self.fields["channel"].choices = [("", _("全部来源")), *Channel.choices]  # type: ignore[attr-defined]

    def filters(self) -> selectors.QueueFilters:
        if not self.is_valid():
            return selectors.QueueFilters()
        data = self.cleaned_data
        light = data.get("light") or ""
        return selectors.QueueFilters(
            status=data.get("status") or selectors.OPEN_FILTER,
            category_id=data["category"].pk if data.get("category") else None,
            territory_id=data["territory"].pk if data.get("territory") else None,
            light=selectors.LightFilter(light) if light else None,
            channel=data.get("channel") or "",
            q=(data.get("q") or "").strip(),
            page=data.get("page") or 1,
        )


def parse_picks(values: list[str]) -> list[tuple[int, int]]:
    """Bulk-dispatch picks sent as ``"<case id>:<version>"``; malformed ones are dropped."""
    picks: list[tuple[int, int]] = []
    for value in values:
        head, _sep, tail = value.partition(":")
        if head.isdigit() and tail.isdigit():
            picks.append((int(head), int(tail)))
    return picks
