"""Input and output serializers of the REST API (inputs validate shape only; rules are the
services')."""

from __future__ import annotations

import math
import re
import secrets
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chengguan.api.models import ALL_EVENTS, Subscription
from chengguan.cases.models import Case, Channel, Urgency
from chengguan.cases.workflow import BY_ACTION, STATUS_LABELS, Status
from chengguan.catalog.models import CategoryKind
from chengguan.org.models import OrgUnit, Staff, UnitKind
from chengguan.security import privacy

# -- strict JSON/query fields: what the schema says, nothing DRF would coerce ------------------

_INT = re.compile(r"^-?\d{1,15}$")
_FLOAT = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


class StrOnly:
    """Refuse JSON numbers/booleans where the schema says string (DRF would turn 5 into "5")."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class JChar(StrOnly, serializers.CharField):
    default_error_messages = {"invalid": "应为字符串。"}


class JEmail(StrOnly, serializers.EmailField):
    pass


class JURL(StrOnly, serializers.URLField):
    pass


class JRegex(StrOnly, serializers.RegexField):
    pass


class JChoice(StrOnly, serializers.ChoiceField):
    default_error_messages = {"invalid": "应为字符串。"}


class JBool(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class JInt(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class JFloat(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float) or not math.isfinite(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class QInt(serializers.IntegerField):
    """An integer in a query string: digits only (no "1.0", no "1e3")."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not _INT.match(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class QFloat(serializers.FloatField):
    """A number in a query string (no nan or inf)."""

    def to_internal_value(self, data: Any) -> float:
        if not isinstance(data, str) or len(data) > 60 or not _FLOAT.match(data):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("invalid")
        return value


class QBool(serializers.BooleanField):
    """``true`` or ``false`` in a query string."""

    def to_internal_value(self, data: Any) -> bool:
        if data not in ("true", "false"):
            self.fail("invalid")
        return data == "true"


# -- errors (documentation only: errors are produced by chengguan.api.errors) ----------------


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="机器可读的错误码，如 invalid、not_found、throttled")
    message = serializers.CharField(help_text="给人看的说明")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), help_text="字段 → 错误信息"
    )


class ErrorOut(serializers.Serializer):
    error = ErrorDetail()


# -- registries ------------------------------------------------------------------------------


class CategoryOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CategoryKind.choices)
    code = serializers.CharField()
    major_code = serializers.CharField()
    major_name = serializers.CharField()
    name = serializers.CharField()
    standard = serializers.CharField()
    domain = serializers.CharField(source="domain.code", allow_null=True, default=None)
    disposition_mode = serializers.CharField()
    assessment_tier = serializers.CharField()
    round_the_clock = serializers.BooleanField()
    public = serializers.BooleanField()
    active = serializers.BooleanField()
    open311_service_code = serializers.SerializerMethodField()

    def get_open311_service_code(self, obj: Any) -> str:
        from chengguan.api.open311_format import service_code

        return service_code(obj)


class CategoryFilter(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CategoryKind.choices, required=False)
    major_code = serializers.RegexField(r"^\d{2}$", required=False)
    public = QBool(required=False, allow_null=True, default=None)
    active = QBool(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, max_length=50, help_text="名称包含或编码开头")


class UnitOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=UnitKind.choices)
    parent = serializers.CharField(source="parent.code", allow_null=True, default=None)  # type: ignore[assignment]
    territory = serializers.CharField(source="territory.code", allow_null=True, default=None)
    committee_member = serializers.BooleanField()
    in_grid = serializers.BooleanField()
    active = serializers.BooleanField()
    domains = serializers.SerializerMethodField()

    def get_domains(self, obj: Any) -> list[str]:
        return [d.code for d in obj.domains.all()]


class UnitFilter(serializers.Serializer):
    kind = serializers.ChoiceField(choices=UnitKind.choices, required=False)
    committee_member = QBool(required=False, allow_null=True, default=None)
    active = QBool(required=False, allow_null=True, default=None)
    q = serializers.CharField(required=False, max_length=50)


class GridLayerOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    revision = serializers.IntegerField()
    activated_at = serializers.DateTimeField(allow_null=True)
    cells = serializers.DictField(child=serializers.IntegerField(), help_text="级别 → 网格数")


class CellsQuery(serializers.Serializer):
    level = QInt(min_value=1, max_value=4, default=1)
    bbox = serializers.RegexField(
        r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?$",
        required=False,
        help_text="west,south,east,north（WGS-84 经纬度）",
    )
    limit = QInt(min_value=1, max_value=5000, default=1000)

    def validate_bbox(self, value: str) -> tuple[float, float, float, float]:
        w, s, e, n = (float(v) for v in value.split(","))
        if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
            raise serializers.ValidationError("bbox 应为 west,south,east,north，且 west≤east、south≤north。")
        return (w, s, e, n)


class GeometryOut(serializers.Serializer):
    type = serializers.CharField()
    coordinates = serializers.ListField(child=serializers.JSONField())


class CellPropertiesOut(serializers.Serializer):
    id = serializers.IntegerField()
    level = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    area_m2 = serializers.FloatField()


class FeatureOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    id = serializers.IntegerField()
    geometry = GeometryOut()
    properties = CellPropertiesOut()


class FeatureCollectionOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = FeatureOut(many=True)


class LocateQuery(serializers.Serializer):
    lon = QFloat(min_value=-180, max_value=180)
    lat = QFloat(min_value=-90, max_value=90)


class CellRefOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class LocationOut(serializers.Serializer):
    found = serializers.BooleanField()
    message = serializers.CharField()
    territory = serializers.CharField(allow_null=True, help_text="所属镇街的单位编码")
    management = CellRefOut(allow_null=True)
    responsibility = CellRefOut(allow_null=True)
    area = CellRefOut(allow_null=True)
    unit = CellRefOut(allow_null=True)


# -- cases -----------------------------------------------------------------------------------

STATUS_CHOICES = [(s.value, label) for s, label in STATUS_LABELS.items()]


class CategoryRefOut(serializers.Serializer):
    kind = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()


class CaseOut(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    status_label = serializers.SerializerMethodField()
    light = serializers.SerializerMethodField(help_text="green/yellow/red/none：当前环节的计时灯")
    channel = serializers.ChoiceField(choices=Channel.choices)
    category = CategoryRefOut()
    description = serializers.SerializerMethodField(help_text="问题描述；其中的电话号码打码（reveal 时原文）")
    address = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    territory = serializers.CharField(source="territory.code", allow_null=True, default=None)
    unit_grid = serializers.CharField()
    area_grid = serializers.CharField()
    responsibility_grid = serializers.CharField()
    management_grid = serializers.CharField()
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    lead_unit = serializers.CharField(source="lead_unit.code", allow_null=True, default=None)
    lead_unit_name = serializers.CharField(source="lead_unit.name", allow_null=True, default=None)
    step = serializers.CharField()
    deadline = serializers.DateTimeField(allow_null=True)
    handle_deadline = serializers.DateTimeField(allow_null=True)
    supervision_level = serializers.IntegerField()
    satisfaction = serializers.IntegerField(allow_null=True)
    reported_at = serializers.DateTimeField()
    registered_at = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    handled_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="乐观锁版本号：流转时作为 expected_version 传回")

    def get_status_label(self, obj: Case) -> str:
        return STATUS_LABELS[Status(obj.status)]

    def get_description(self, obj: Case) -> str:
        # A number the citizen or the hotline typed into the text is personal data too.
        shown = self.context.get("citizen")
        if shown and shown.get("revealed"):
            return obj.description
        return privacy.mask_phones_in_text(obj.description)

    def get_light(self, obj: Case) -> str:
        lights: dict[int, str] = self.context.get("lights", {})
        return lights.get(obj.pk, "none")


class Open311ExtrasOut(serializers.Serializer):
    media_url = serializers.CharField()
    attributes = serializers.DictField(child=serializers.JSONField())


class CitizenOut(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    revealed = serializers.BooleanField(help_text="false：已打码；true：本次查看已留痕")


class CaseDetailOut(CaseOut):
    co_handlers = serializers.SerializerMethodField()
    citizen = serializers.SerializerMethodField(
        help_text="举报人联系方式（市民来源的案件），默认打码；personal:read 密钥或受理/值班/派遣岗位加 "
        "?reveal=contact 可见原文并留痕"
    )
    routing_note = serializers.CharField()
    duplicate_of = serializers.CharField(source="duplicate_of.code", allow_null=True, default=None)
    tags = serializers.ListField(child=serializers.CharField())
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    quantity_unit = serializers.CharField()
    disposition_mode = serializers.CharField()
    rework_count = serializers.IntegerField()
    return_count = serializers.IntegerField()
    extension_count = serializers.IntegerField()
    open311 = serializers.SerializerMethodField()

    def get_co_handlers(self, obj: Case) -> list[str]:
        return [u.code for u in obj.co_handlers.all()]

    @extend_schema_field(CitizenOut(allow_null=True))
    def get_citizen(self, obj: Case) -> dict[str, Any] | None:
        # The view decides (and logs) a reveal; anything else serializes the masked form.
        if "citizen" in self.context:
            shown: dict[str, Any] | None = self.context["citizen"]
            return shown
        return privacy.contact_shown(privacy.contact_of(obj), reveal=False)

    @extend_schema_field(Open311ExtrasOut(allow_null=True))
    def get_open311(self, obj: Case) -> dict[str, Any] | None:
        extras = getattr(obj, "open311", None)
        if extras is None:
            return None
        return {"media_url": extras.media_url, "attributes": extras.attributes}


class EventOut(serializers.Serializer):
    seq = serializers.IntegerField()
    action = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    at = serializers.DateTimeField()
    actor_name = serializers.SerializerMethodField(help_text="操作人；市民姓名打码")
    actor_role = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.CharField()
    deadline_before = serializers.DateTimeField(allow_null=True)
    deadline_after = serializers.DateTimeField(allow_null=True)
    data = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]

    def get_actor_name(self, obj: Any) -> str:
        return privacy.shown_actor_name(obj.actor_name, obj.actor_role)


ORDERINGS = ["reported_at", "-reported_at", "deadline", "-deadline", "updated_at", "-updated_at"]


class CaseFilter(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("open", "未办结"), ("closed", "已办结"), *STATUS_CHOICES],
        required=False,
        help_text="open、closed 或某一内部状态",
    )
    category_kind = serializers.ChoiceField(choices=CategoryKind.choices, required=False)
    category_code = serializers.RegexField(r"^\d{5}$", required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    territory = serializers.CharField(required=False, max_length=32, help_text="镇街单位编码")
    lead_unit = serializers.CharField(required=False, max_length=32, help_text="主办单位编码")
    reported_after = serializers.DateTimeField(required=False)
    reported_before = serializers.DateTimeField(required=False)
    updated_after = serializers.DateTimeField(required=False, help_text="增量同步：此时间之后有变化的案件")
    q = serializers.CharField(required=False, max_length=50, help_text="案件编号开头或地址包含")
    ordering = serializers.ChoiceField(choices=ORDERINGS, required=False, default="-reported_at")


class CitizenIn(serializers.Serializer):
    name = JChar(max_length=50, required=False, allow_blank=True, default="")
    phone = JRegex(r"^[0-9+\- ]{0,20}$", required=False, allow_blank=True, default="")
    email = JEmail(max_length=254, required=False, allow_blank=True, default="")


class CaseCreateIn(serializers.Serializer):
    category_kind = JChoice(choices=CategoryKind.choices)
    category_code = JRegex(r"^\d{5}$")
    description = JChar(max_length=4000)
    channel = JChoice(
        choices=Channel.choices, help_text="来源渠道（open311 除外：Open311 应用请用 /open311/v2/）"
    )
    lat = JFloat(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    lon = JFloat(min_value=-180, max_value=180, required=False, allow_null=True, default=None)
    address = JChar(max_length=200, required=False, allow_blank=True, default="")
    urgency = JChoice(choices=Urgency.choices, required=False, default=Urgency.NORMAL)
    citizen = CitizenIn(required=False, allow_null=True, default=None)
    quantity = JFloat(min_value=0, max_value=1e9, required=False, allow_null=True, default=None)
    quantity_unit = JChar(max_length=10, required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=JChar(max_length=40), max_length=20, required=False, default=list)

    def validate_channel(self, value: str) -> str:
        if value == Channel.OPEN311:
            raise serializers.ValidationError("Open311 应用请通过 /open311/v2/requests 上报。")
        return value


class TransitionIn(serializers.Serializer):
    action = JChoice(choices=[(t.action, t.label) for t in BY_ACTION.values()])
    note = JChar(max_length=2000, required=False, allow_blank=True, default="")
    expected_version = JInt(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="上次读到的 version；已变化则 409",
    )
    lead_unit = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), required=False, allow_null=True, default=None
    )
    co_handlers = serializers.SlugRelatedField(
        slug_field="code", queryset=OrgUnit.objects.all(), many=True, required=False, default=list
    )
    inspector = serializers.SlugRelatedField(
        slug_field="code", queryset=Staff.objects.all(), required=False, allow_null=True, default=None
    )
    extension_hours = JFloat(
        min_value=0, max_value=2000, required=False, allow_null=True, default=None, help_text="工作时数"
    )
    duplicate_of = serializers.SlugRelatedField(
        slug_field="code", queryset=Case.objects.all(), required=False, allow_null=True, default=None
    )
    satisfaction = JInt(min_value=1, max_value=5, required=False, allow_null=True, default=None)
    citizen_token = JChar(max_length=40, required=False, allow_blank=True, default="")


# -- webhooks --------------------------------------------------------------------------------

EVENT_CHOICES = [ALL_EVENTS, "case.report", "case.self_handle", *(f"case.{a}" for a in BY_ACTION)]


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.URLField()
    event_types = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SubscriptionCreatedOut(SubscriptionOut):
    secret = serializers.CharField(help_text="签名密钥，只在创建时返回一次")


class SubscriptionIn(serializers.Serializer):
    name = JChar(max_length=100)
    url = JURL(max_length=500)
    event_types = serializers.ListField(
        child=JChoice(choices=EVENT_CHOICES), min_length=1, max_length=len(EVENT_CHOICES)
    )
    secret = JChar(min_length=16, max_length=100, required=False, help_text="不填则由系统生成（只返回一次）")
    active = JBool(required=False, default=True)

    def validate_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("只支持 http/https 地址。")
        return value

    def create(self, validated: dict[str, Any]) -> Subscription:
        validated.setdefault("secret", secrets.token_urlsafe(32))
        validated["event_types"] = sorted(set(validated["event_types"]))
        return Subscription.objects.create(**validated)


class SubscriptionPatch(serializers.Serializer):
    name = JChar(max_length=100, required=False)
    url = JURL(max_length=500, required=False)
    event_types = serializers.ListField(
        child=JChoice(choices=EVENT_CHOICES),
        min_length=1,
        max_length=len(EVENT_CHOICES),
        required=False,
    )
    active = JBool(required=False)

    def validate_url(self, value: str) -> str:
        return SubscriptionIn().validate_url(value)


class DeliveryOut(serializers.Serializer):
    id = serializers.IntegerField()
    event_type = serializers.CharField()
    event_id = serializers.IntegerField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
