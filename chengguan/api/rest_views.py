"""REST API ``/api/v1/``: registries, the grid, cases and their transitions, webhooks.

Thin views: validate input with a serializer, call a selector/query or a case service,
serialize the answer. Session login (the pages) and API keys both work; a key needs the
scope of what it does. Errors all look like ``{"error": {"code", "message", "fields"}}``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from chengguan.api import errors, queries
from chengguan.api import serializers as s
from chengguan.api.auth import ApiKeyAuthentication, ApiKeyRateThrottle, ScopePermission
from chengguan.api.models import ApiKey, Delivery, Scope, Subscription
from chengguan.calendar.selectors import work_calendar
from chengguan.cases import services
from chengguan.cases.models import Case
from chengguan.cases.selectors import cases_for, light_of
from chengguan.cases.workflow import FINAL
from chengguan.catalog.models import Category
from chengguan.org.models import OrgUnit, Staff
from chengguan.security import policy, privacy

# Error responses every operation may give (documented so schema checks know them).
COMMON_ERRORS = {
    400: OpenApiResponse(s.ErrorOut, description="参数有误（fields 指出字段）"),
    401: OpenApiResponse(s.ErrorOut, description="缺少或无效的接口密钥"),
    403: OpenApiResponse(s.ErrorOut, description="密钥缺少权限范围"),
    429: OpenApiResponse(s.ErrorOut, description="超过频率限制"),
}
BAD_INPUT = {400: OpenApiResponse(s.ErrorOut, description="参数有误（fields 指出字段）")}
NOT_FOUND = {404: OpenApiResponse(s.ErrorOut, description="不存在或无权查看")}
CONFLICT = {409: OpenApiResponse(s.ErrorOut, description="流程不允许或案件已被他人处理")}


class Pagination(LimitOffsetPagination):
    """limit/offset; values that are not plain non-negative integers are a 400, not ignored."""

    default_limit = 50
    max_limit = 500

    def _read(self, request: Any, name: str, default: int, lowest: int, highest: int | None) -> int:
        values = request.query_params.getlist(name)
        if not values:
            return default
        raw = values[-1]
        if len(values) > 1 or not raw.isdigit() or len(raw) > 18:
            raise ValidationError({name: ["应为非负整数。"]})
        value = int(raw)
        if value < lowest or (highest is not None and value > highest):
            raise ValidationError(
                {name: [f"应在 {lowest} 到 {highest} 之间。" if highest else f"不能小于 {lowest}。"]}
            )
        return value

    def get_limit(self, request: Any) -> int:
        return self._read(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Any) -> int:
        return self._read(request, self.offset_query_param, 0, 0, None)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            bounds = {"minimum": 1, "maximum": self.max_limit} if param["name"] == "limit" else {"minimum": 0}
            param["schema"].update(bounds)
        return params


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class ApiView(GenericAPIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [ScopePermission]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    pagination_class: type[Pagination] | None = None
    scopes: dict[str, str] = {}

    def get_exception_handler(self) -> Any:
        return errors.exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # PostgreSQL text cannot hold NUL: refuse it in the path and the query up front.
        if (
            "\x00" in request.path
            or "\x00" in request.META.get("QUERY_STRING", "")
            or any("\x00" in str(v) for v in kwargs.values())
        ):
            raise ValidationError({"non_field_errors": ["请求中含有不允许的空字符。"]})

    def query(self, serializer_class: type[s.serializers.Serializer]) -> dict[str, Any]:
        form = serializer_class(data=self.request.query_params.dict())
        form.is_valid(raise_exception=True)
        return dict(form.validated_data)

    def body(self, serializer_class: type[s.serializers.Serializer], **kwargs: Any) -> dict[str, Any]:
        if not isinstance(self.request.data, dict):
            raise ValidationError({"non_field_errors": ["请求体应为 JSON 对象。"]})
        form = serializer_class(data=self.request.data, **kwargs)
        form.is_valid(raise_exception=True)
        return dict(form.validated_data)

    def key(self) -> ApiKey | None:
        return self.request.auth if isinstance(self.request.auth, ApiKey) else None

    def page(self, qs: QuerySet[Any], serializer: type[s.serializers.Serializer], **context: Any) -> Response:
        paginator = Pagination()
        rows = paginator.paginate_queryset(qs, self.request, view=self)
        data = serializer(rows, many=True, context={"request": self.request, **context}).data
        return paginator.get_paginated_response(data)


# -- registries ------------------------------------------------------------------------------


class CategoriesView(ApiView):
    scopes = {"GET": Scope.REGISTRIES_READ}
    pagination_class = Pagination
    serializer_class = s.CategoryOut

    @extend_schema(
        operation_id="categories_list",
        summary="部件事项目录",
        parameters=[s.CategoryFilter],
        responses={200: s.CategoryOut(many=True), **BAD_INPUT, **COMMON_ERRORS},
        tags=["registries"],
    )
    def get(self, request: Request) -> Response:
        f = self.query(s.CategoryFilter)
        qs = Category.objects.select_related("domain").order_by("kind", "code")
        if f.get("kind"):
            qs = qs.filter(kind=f["kind"])
        if f.get("major_code"):
            qs = qs.filter(major_code=f["major_code"])
        for flag in ("public", "active"):
            if f.get(flag) is not None:
                qs = qs.filter(**{flag: f[flag]})
        if f.get("q"):
            qs = qs.filter(Q(name__icontains=f["q"]) | Q(code__startswith=f["q"]))
        return self.page(qs, s.CategoryOut)


class UnitsView(ApiView):
    scopes = {"GET": Scope.REGISTRIES_READ}
    pagination_class = Pagination
    serializer_class = s.UnitOut

    @extend_schema(
        operation_id="units_list",
        summary="单位（城管委成员单位、镇街、部门、执法中队…）",
        parameters=[s.UnitFilter],
        responses={200: s.UnitOut(many=True), **BAD_INPUT, **COMMON_ERRORS},
        tags=["registries"],
    )
    def get(self, request: Request) -> Response:
        f = self.query(s.UnitFilter)
        qs = (
            OrgUnit.objects.select_related("parent", "territory").prefetch_related("domains").order_by("code")
        )
        if f.get("kind"):
            qs = qs.filter(kind=f["kind"])
        for flag in ("committee_member", "active"):
            if f.get(flag) is not None:
                qs = qs.filter(**{flag: f[flag]})
        if f.get("q"):
            qs = qs.filter(Q(name__icontains=f["q"]) | Q(code__startswith=f["q"]))
        return self.page(qs, s.UnitOut)


class GridLayerView(ApiView):
    scopes = {"GET": Scope.REGISTRIES_READ}
    serializer_class = s.GridLayerOut

    @extend_schema(
        operation_id="grid_layer",
        summary="现用网格版本",
        responses={200: s.GridLayerOut, **NOT_FOUND, **COMMON_ERRORS},
        tags=["grid"],
    )
    def get(self, request: Request) -> Response:
        from chengguan.grid.models import GridCell
        from chengguan.grid.selectors import active_layer

        layer = active_layer()
        if layer is None:
            raise NotFound("尚未启用网格。")
        counts = (
            GridCell.objects.filter(layer=layer).values("level").annotate(n=Count("pk")).order_by("level")
        )
        return Response(
            s.GridLayerOut(
                {
                    "id": layer.pk,
                    "name": layer.name,
                    "source": layer.source,
                    "revision": layer.revision,
                    "activated_at": layer.activated_at,
                    "cells": {str(row["level"]): row["n"] for row in counts},
                }
            ).data
        )


class GridCellsView(ApiView):
    scopes = {"GET": Scope.REGISTRIES_READ}
    serializer_class = s.FeatureCollectionOut

    @extend_schema(
        operation_id="grid_cells",
        summary="网格（GeoJSON），可按级别与范围筛选",
        parameters=[s.CellsQuery],
        responses={200: s.FeatureCollectionOut, **BAD_INPUT, **COMMON_ERRORS},
        tags=["grid"],
    )
    def get(self, request: Request) -> Response:
        from chengguan.grid.selectors import active_layer, cells_geojson, cells_in_view, layer_cells

        f = self.query(s.CellsQuery)
        layer = active_layer()
        if layer is None:
            return Response({"type": "FeatureCollection", "features": []})
        if f.get("bbox"):
            west, south, east, north = f["bbox"]
            cells = cells_in_view(layer, f["level"], west, south, east, north, limit=f["limit"])
        else:
            cells = (
                layer_cells(layer, f["level"])
                .order_by("code")
                .only("id", "level", "code", "name", "geometry", "area_m2")[: f["limit"]]
            )
        return Response(cells_geojson(cells))


class LocateView(ApiView):
    scopes = {"GET": Scope.REGISTRIES_READ}
    serializer_class = s.LocationOut

    @extend_schema(
        operation_id="grid_locate",
        summary="经纬度（WGS-84）所在的四级网格与镇街",
        parameters=[s.LocateQuery],
        responses={200: s.LocationOut, **BAD_INPUT, **COMMON_ERRORS},
        tags=["grid"],
    )
    def get(self, request: Request) -> Response:
        from chengguan.grid.selectors import locate

        f = self.query(s.LocateQuery)
        found = locate(f["lon"], f["lat"])
        if found is None:
            body: dict[str, Any] = {
                "found": False,
                "message": "尚未启用网格。",
                "territory": None,
                **dict.fromkeys(("management", "responsibility", "area", "unit")),
            }
            return Response(body)
        territory = (
            OrgUnit.objects.filter(pk=found.territory_id).values_list("code", flat=True).first()
            if found.territory_id
            else None
        )
        body = {"found": found.found, "message": found.message, "territory": territory}
        for level, name in enumerate(("management", "responsibility", "area", "unit"), start=1):
            ref = found.at(level)
            body[name] = {"code": ref.code, "name": ref.name} if ref else None
        return Response(s.LocationOut(body).data)


# -- cases -----------------------------------------------------------------------------------

CASE_RELATED = ("category", "territory", "lead_unit")


def _lights(cases: list[Case]) -> dict[int, str]:
    if not cases:
        return {}
    calendar, now = work_calendar(), timezone.now()
    return {c.pk: light_of(c, calendar, now) for c in cases}


def _detail(case_id: int) -> Case:
    return (
        Case.objects.select_related(*CASE_RELATED, "duplicate_of", "open311", "citizen")
        .prefetch_related(Prefetch("co_handlers", queryset=OrgUnit.objects.order_by("code")))
        .get(pk=case_id)
    )


class CasesView(ApiView):
    scopes = {"GET": Scope.CASES_READ, "POST": Scope.CASES_WRITE}
    pagination_class = Pagination
    serializer_class = s.CaseOut

    def viewer(self) -> Any:
        return queries.viewer_for(self.request.user, self.key())

    @extend_schema(
        operation_id="cases_list",
        summary="案件列表（按权限范围）",
        parameters=[s.CaseFilter],
        responses={200: s.CaseOut(many=True), **BAD_INPUT, **COMMON_ERRORS},
        tags=["cases"],
    )
    def get(self, request: Request) -> Response:
        f = self.query(s.CaseFilter)
        qs = cases_for(self.viewer()).select_related(*CASE_RELATED)
        final = [st.value for st in FINAL]
        if f.get("status") == "open":
            qs = qs.exclude(status__in=final)
        elif f.get("status") == "closed":
            qs = qs.filter(status__in=final)
        elif f.get("status"):
            qs = qs.filter(status=f["status"])
        if f.get("category_kind"):
            qs = qs.filter(category__kind=f["category_kind"])
        if f.get("category_code"):
            qs = qs.filter(category__code=f["category_code"])
        if f.get("channel"):
            qs = qs.filter(channel=f["channel"])
        if f.get("territory"):
            qs = qs.filter(territory__code=f["territory"])
        if f.get("lead_unit"):
            qs = qs.filter(lead_unit__code=f["lead_unit"])
        if f.get("reported_after"):
            qs = qs.filter(reported_at__gte=f["reported_after"])
        if f.get("reported_before"):
            qs = qs.filter(reported_at__lte=f["reported_before"])
        if f.get("updated_after"):
            qs = qs.filter(updated_at__gt=f["updated_after"])
        if f.get("q"):
            qs = qs.filter(Q(code__startswith=f["q"]) | Q(address__icontains=f["q"]))
        qs = qs.order_by(f["ordering"], "pk")
        paginator = Pagination()
        rows = paginator.paginate_queryset(qs, request, view=self) or []
        data = s.CaseOut(rows, many=True, context={"lights": _lights(rows)}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="cases_create",
        summary="上报案件（热线、视频识别、无人机等接入）",
        request=s.CaseCreateIn,
        responses={201: s.CaseDetailOut, **BAD_INPUT, **COMMON_ERRORS},
        tags=["cases"],
    )
    def post(self, request: Request) -> Response:
        data = self.body(s.CaseCreateIn)
        category = Category.objects.filter(kind=data["category_kind"], code=data["category_code"]).first()
        if category is None:
            raise ValidationError({"category_code": ["目录中没有该类别。"]})
        user = request.user if request.user and request.user.is_authenticated else None
        staff = Staff.objects.filter(user=user, active=True).first() if user is not None else None
        citizen = data.get("citizen")
        case = services.report(
            services.ReportInput(
                category=category,
                description=data["description"],
                channel=data["channel"],
                lat=data["lat"],
                lon=data["lon"],
                address=data["address"],
                reporter_staff=staff,
                reporter_user=user,
                citizen=services.CitizenInfo(**citizen) if citizen else None,
                urgency=data["urgency"],
                quantity=_decimal(data["quantity"]),
                quantity_unit=data["quantity_unit"],
                tags=data["tags"],
            )
        )
        detail = _detail(case.pk)
        body = s.CaseDetailOut(detail, context={"lights": _lights([detail])}).data
        return Response(body, status=status.HTTP_201_CREATED)


class CaseMixin(ApiView):
    def visible_case(self, code: str) -> Case:
        viewer = queries.viewer_for(self.request.user, self.key())
        case_id = cases_for(viewer).filter(code=code).values_list("pk", flat=True).first()
        if case_id is None:
            raise NotFound("案件不存在或无权查看。")
        return _detail(case_id)


CODE_PARAM = OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="案件编号")


class CaseView(CaseMixin):
    scopes = {"GET": Scope.CASES_READ}
    serializer_class = s.CaseDetailOut

    @extend_schema(
        operation_id="cases_retrieve",
        summary="案件详情",
        parameters=[
            CODE_PARAM,
            OpenApiParameter(
                "reveal",
                OpenApiTypes.STR,
                enum=["contact"],
                description=(
                    "contact：显示举报人联系方式原文（需 personal:read 或受理/值班/派遣岗位，逐次留痕）"
                ),
            ),
        ],
        responses={200: s.CaseDetailOut, **NOT_FOUND, **COMMON_ERRORS},
        tags=["cases"],
    )
    def get(self, request: Request, code: str) -> Response:
        case = self.visible_case(code)
        context: dict[str, Any] = {"lights": _lights([case])}
        contact = privacy.contact_of(case)
        key = self.key()
        wants = request.query_params.get("reveal") == "contact"
        if wants and contact is not None:
            scopes = list(key.scopes or []) if key is not None else None
            user = key.user if key is not None else request.user
            if policy.may_reveal_contact_api(policy.post_of(user, remember=key is None), scopes):
                context["citizen"] = privacy.contact_shown(contact, reveal=True)
                if context["citizen"] is not None:
                    where = f"api:case{' key ' + key.prefix if key is not None else ''}"
                    privacy.log_personal_data_view(
                        user, case, privacy.shown_fields(contact), where, request=request._request
                    )
        return Response(s.CaseDetailOut(case, context=context).data)


class CaseEventsView(CaseMixin):
    scopes = {"GET": Scope.CASES_READ}
    serializer_class = s.EventOut

    @extend_schema(
        operation_id="cases_events",
        summary="案件全部流转记录（只追加，不修改）",
        parameters=[CODE_PARAM],
        responses={200: s.EventOut(many=True), **NOT_FOUND, **COMMON_ERRORS},
        tags=["cases"],
    )
    def get(self, request: Request, code: str) -> Response:
        case = self.visible_case(code)
        events = case.events.order_by("seq")
        return Response(s.EventOut(events, many=True).data)


class CaseTransitionsView(CaseMixin):
    scopes = {"POST": Scope.CASES_WRITE}
    serializer_class = s.CaseDetailOut

    @extend_schema(
        operation_id="cases_transition",
        summary="流转操作（立案、派遣、反馈、核查、结案…）",
        parameters=[CODE_PARAM],
        request=s.TransitionIn,
        responses={200: s.CaseDetailOut, **BAD_INPUT, **NOT_FOUND, **CONFLICT, **COMMON_ERRORS},
        tags=["cases"],
    )
    def post(self, request: Request, code: str) -> Response:
        user = request.user if request.user and request.user.is_authenticated else None
        if user is None:
            raise PermissionDenied("此接口密钥未绑定账号，不能执行流转操作。")
        case = self.visible_case(code)
        data = self.body(s.TransitionIn)
        services.transition(
            case.pk,
            services.TransitionInput(
                action=data["action"],
                note=data["note"],
                expected_version=data["expected_version"],
                lead_unit=data["lead_unit"],
                co_handlers=data["co_handlers"],
                inspector=data["inspector"],
                extension_hours=_decimal(data["extension_hours"]),
                duplicate_of=data["duplicate_of"],
                satisfaction=data["satisfaction"],
                citizen_token=data["citizen_token"],
            ),
            user,
        )
        detail = _detail(case.pk)
        return Response(s.CaseDetailOut(detail, context={"lights": _lights([detail])}).data)


# -- webhook subscriptions ---------------------------------------------------------------------


class SubscriptionMixin(ApiView):
    scopes = {"*": Scope.WEBHOOKS_MANAGE}

    def subscriptions(self) -> QuerySet[Subscription]:
        key = self.key()
        qs = Subscription.objects.all()
        return qs.filter(api_key=key) if key is not None else qs

    def subscription(self, pk: int) -> Subscription:
        found = self.subscriptions().filter(pk=pk).first()
        if found is None:
            raise NotFound("订阅不存在。")
        return found


ID_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="订阅编号")


class SubscriptionsView(SubscriptionMixin):
    pagination_class = Pagination
    serializer_class = s.SubscriptionOut

    @extend_schema(
        operation_id="subscriptions_list",
        summary="事件订阅（webhook）",
        responses={200: s.SubscriptionOut(many=True), **BAD_INPUT, **COMMON_ERRORS},
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        return self.page(self.subscriptions().order_by("pk"), s.SubscriptionOut)

    @extend_schema(
        operation_id="subscriptions_create",
        summary="订阅案件事件",
        request=s.SubscriptionIn,
        responses={201: s.SubscriptionCreatedOut, **BAD_INPUT, **COMMON_ERRORS},
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        form = s.SubscriptionIn(data=request.data if isinstance(request.data, dict) else None)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["请求体应为 JSON 对象。"]})
        form.is_valid(raise_exception=True)
        sub = form.save(api_key=self.key())
        return Response(s.SubscriptionCreatedOut(sub).data, status=status.HTTP_201_CREATED)


class SubscriptionView(SubscriptionMixin):
    serializer_class = s.SubscriptionOut

    @extend_schema(
        operation_id="subscriptions_retrieve",
        parameters=[ID_PARAM],
        responses={200: s.SubscriptionOut, **NOT_FOUND, **COMMON_ERRORS},
        tags=["webhooks"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.SubscriptionOut(self.subscription(pk)).data)

    @extend_schema(
        operation_id="subscriptions_update",
        summary="修改或停用订阅（active=false）",
        parameters=[ID_PARAM],
        request=s.SubscriptionPatch,
        responses={200: s.SubscriptionOut, **BAD_INPUT, **NOT_FOUND, **COMMON_ERRORS},
        tags=["webhooks"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        sub = self.subscription(pk)
        data = self.body(s.SubscriptionPatch)
        for name, value in data.items():
            setattr(sub, name, sorted(set(value)) if name == "event_types" else value)
        sub.save()
        return Response(s.SubscriptionOut(sub).data)


class DeliveriesView(SubscriptionMixin):
    pagination_class = Pagination
    serializer_class = s.DeliveryOut

    @extend_schema(
        operation_id="subscriptions_deliveries",
        summary="投递记录（次数、响应码、错误、下次尝试）",
        parameters=[ID_PARAM],
        responses={200: s.DeliveryOut(many=True), **BAD_INPUT, **NOT_FOUND, **COMMON_ERRORS},
        tags=["webhooks"],
    )
    def get(self, request: Request, pk: int) -> Response:
        sub = self.subscription(pk)
        return self.page(Delivery.objects.filter(subscription=sub).order_by("-pk"), s.DeliveryOut)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return JsonResponse(errors.error_body("not_found", "没有这个接口。"), status=404)
