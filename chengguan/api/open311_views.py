"""Open311 GeoReport v2 under ``/open311/v2/`` (plus the request-updates extension).

Thin views on Django's own request handling (DRF's request machinery costs more than a
cached read): parse, call the case service or a query, render XML or JSON by the URL's
suffix. Errors are the spec's: a list of ``{code, description}`` with the HTTP status the
spec names (400 missing, 404 not found, 403 bad key, 413 too big, 429 too many).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from chengguan.api import open311_format as fmt
from chengguan.api import queries, shared
from chengguan.api.auth import client_address, find_key, over_rate, parse_rate, remembered_key
from chengguan.api.models import Open311Request, Scope
from chengguan.api.open311_input import Open311Error, optional, parse
from chengguan.cases import intake, services
from chengguan.cases.forms import CheckedPhoto
from chengguan.cases.models import Attachment, Case, Channel
from chengguan.security import uploads

MAX_BODY = 64 * 1024  # a request is a few hundred bytes of form fields (plus one photo in "media")
MAX_SPAN = dt.timedelta(days=90)
CHANGESET = "2026-01-01T00:00:00+08:00"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def jurisdiction() -> str:
    return str(
        getattr(
            settings,
            "CHENGGUAN_OPEN311_JURISDICTION",
            os.environ.get("CHENGGUAN_OPEN311_JURISDICTION", settings.CHENGGUAN_DISTRICT_CODE),
        )
    )


def too_many(fmt_name: str, exc: shared.OverRate) -> HttpResponse:
    """The spec's 429, with the seconds to wait."""
    response = fmt.error_response(fmt_name, 429, "too many requests: slow down")
    response["Retry-After"] = str(int(exc.wait))
    return response


class Open311Read(View):
    """GET resources without DRF's request machinery (the hot public read path): the same
    jurisdiction check, per-address rate limit and error documents as the POST."""

    http_method_names = ["get", "head", "options"]

    def reads_cache_first(self, request: HttpRequest) -> bool:
        """Whether the view's first work is a cache read the rate-limit hit can ride along
        with (chengguan.api.shared); otherwise the hit is counted before the view runs."""
        return False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        fmt_name = str(kwargs.get("format", "xml"))
        try:
            if request.method not in ("GET", "HEAD"):
                raise Open311Error(405, "method not allowed")
            ident = f"addr:{client_address(request)}"
            if self.reads_cache_first(request):
                limit, period = parse_rate(getattr(settings, "CHENGGUAN_API_RATE", "6000/min"))
                shared.count_with_next_read(ident, period, limit)
            else:
                wait = over_rate(ident)
                if wait is not None:
                    raise shared.OverRate(wait)
            try:
                if any("\x00" in str(v) for v in kwargs.values()) or any(
                    "\x00" in v for values in request.GET.lists() for v in values[1]
                ):
                    raise Open311Error(400, "the request contains a NUL character")
                given = optional(request.GET, "jurisdiction_id")
                if given and given != jurisdiction():
                    raise Open311Error(404, f"jurisdiction_id {given[:60]} was not found")
                response = super().dispatch(request, *args, **kwargs)
            except Open311Error as exc:
                response = fmt.error_response(fmt_name, exc.status, exc.description)
            shared.settle()  # a refused or answered request counts as well
            return response
        except Open311Error as exc:
            return fmt.error_response(fmt_name, exc.status, exc.description)
        except shared.OverRate as exc:
            return too_many(fmt_name, exc)
        finally:
            shared.forget_pending()


def _dates(params: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    def read(name: str) -> dt.datetime | None:
        raw = optional(params, name)
        if not raw:
            return None
        moment = parse_datetime(raw.replace(" ", "+"))  # a '+' in a query string arrives as a space
        if moment is None:
            raise Open311Error(400, f"{name} must be a W3C datetime, e.g. 2026-01-01T00:00:00+08:00")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment

    return read("start_date"), read("end_date")


def _window(params: Any) -> tuple[dt.datetime, dt.datetime]:
    start, end = _dates(params)
    if start is None and end is None:
        end = timezone.now()
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    return start, end


def _csv(params: Any, name: str, limit: int = 100) -> list[str]:
    raw = ",".join(str(v) for v in params.getlist(name))
    items = [v.strip() for v in raw.split(",") if v.strip()]
    if len(items) > limit:
        raise Open311Error(400, f"at most {limit} values of {name} at once")
    return items


class DiscoveryView(Open311Read):
    def get(self, request: HttpRequest, format: str) -> HttpResponse:
        base = request.build_absolute_uri("/open311/v2/")
        contact = str(getattr(settings, "CHENGGUAN_OPEN311_CONTACT", "城市管理指挥中心"))
        doc = {
            "changeset": CHANGESET,
            "contact": contact,
            "key_service": "接口密钥由区城市管理指挥中心在管理后台「接口密钥」中发放",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": base,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }
        return fmt.respond(format, "discovery", doc)


class ServicesView(Open311Read):
    def get(self, request: HttpRequest, format: str) -> HttpResponse:
        docs = [fmt.service_doc(c, has_meta) for c, has_meta in queries.open311_services()]
        return fmt.respond(format, "services", docs)


class ServiceDefinitionView(Open311Read):
    def get(self, request: HttpRequest, code: str, format: str) -> HttpResponse:
        from chengguan.api.open311_input import category_for

        category = category_for(code)
        return fmt.respond(
            format, "service_definition", fmt.definition_doc(category, queries.attributes_of(category))
        )


class RequestsRead(Open311Read):
    def reads_cache_first(self, request: HttpRequest) -> bool:
        ids = ",".join(request.GET.getlist("service_request_id"))
        return queries.row_cache_seconds() > 0 and any(v.strip() for v in ids.split(","))

    def get(self, request: HttpRequest, format: str) -> HttpResponse:
        params = request.GET
        ids = _csv(params, "service_request_id")
        if ids:
            cases = queries.public_requests(ids=ids)
        else:
            categories = []
            for code in _csv(params, "service_code"):
                parsed = fmt.parse_service_code(code)
                if parsed is None or queries.open311_category(*parsed) is None:
                    raise Open311Error(404, f"service_code {code[:40]} was not found")
                categories.append(parsed)
            statuses = _csv(params, "status")
            if any(s not in ("open", "closed") for s in statuses):
                raise Open311Error(400, "status must be open, closed or both")
            start, end = _window(params)
            cases = queries.public_requests(categories=categories, start=start, end=end, statuses=statuses)
        return fmt.respond(format, "service_requests", [fmt.request_doc(c) for c in cases])


MEDIA_REFUSALS = {
    "too_big": "media is larger than the upload limit",
    "too_many_pixels": "media has too many pixels",
    "empty": "media is an empty file",
    "not_image": "media must be a JPEG, PNG or WebP picture",
}


def _media(request: HttpRequest) -> list[CheckedPhoto]:
    """The optional ``media`` upload of GeoReport v2, checked by its content like every photo."""
    upload = request.FILES.get("media")
    if upload is None:
        return []
    try:
        checked = uploads.check_image(upload)
    except uploads.UploadRejected as error:
        raise Open311Error(400, MEDIA_REFUSALS.get(error.code, "media was refused")) from None
    return [CheckedPhoto(upload, checked.content_type, checked.extension, checked.gps, checked.size)]


PARSED_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RequestCreate(View):
    """POST ``requests.{fmt}``: Django's own form parsing, the key, the rate limit, then the
    case service through the group commit (``cases.intake``), so concurrent requests of one
    process share a transaction. A request with a picture in ``media`` is written on its own
    (its file and rows commit together). Errors are the spec's, checked in the order the
    specification's clients expect: body size, body format, key, rate, jurisdiction, fields.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest, format: str) -> HttpResponse:
        try:
            return self.create(request, format)
        except services.CaseError as exc:
            return fmt.error_response(format, 400, str(exc))
        except Open311Error as exc:
            return fmt.error_response(format, exc.status, exc.description)
        except shared.OverRate as exc:
            return too_many(format, exc)

    def form(self, request: HttpRequest) -> Any:
        """The posted fields (415 for a body in another format, 400 when unreadable)."""
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        content_type = (request.content_type or "").lower()
        limit = MAX_BODY
        if content_type == "multipart/form-data":
            limit += uploads.max_upload_bytes()  # room for one photo in the media field
        if length > limit:
            raise Open311Error(413, f"request body is larger than {limit // 1024} KiB")
        if content_type not in PARSED_TYPES:
            if length or content_type:
                raise Open311Error(415, "send application/x-www-form-urlencoded; charset=utf-8")
            return request.POST  # no body at all: no fields
        try:
            return request.POST
        except RequestDataTooBig:
            raise Open311Error(413, "request body is too large") from None
        except (MultiPartParserError, TooManyFieldsSent, UnicodeDecodeError, ValueError):
            raise Open311Error(400, "the request body could not be read") from None

    def create(self, request: HttpRequest, format: str) -> HttpResponse:
        data = self.form(request)
        raw = optional(data, "api_key") or optional(request.GET, "api_key")
        raw = raw or str(request.META.get("HTTP_X_API_KEY", "")).strip()
        # The key's rate-limit hit rides along with the key check's one cache read when this
        # process already knows the key (every request of an integrator but its first).
        known = remembered_key(raw)
        if known is not None:
            limit, period = parse_rate(getattr(settings, "CHENGGUAN_API_RATE", "6000/min"))
            shared.count_with_next_read(f"key:{known.pk}", period, limit)
        try:
            key = find_key(raw) if raw else None
            shared.settle()  # a hit no read took along is counted now (OverRate when over)
        finally:
            shared.forget_pending()
        if raw and key is None:
            raise Open311Error(403, "api_key is invalid or revoked")
        if known is None:
            wait = over_rate(f"key:{key.pk}" if key is not None else f"addr:{client_address(request)}")
            if wait is not None:
                raise shared.OverRate(wait)
        given = optional(request.GET, "jurisdiction_id") or optional(data, "jurisdiction_id")
        if given and given != jurisdiction():
            raise Open311Error(404, f"jurisdiction_id {given[:60]} was not found")
        if key is None:
            raise Open311Error(400, "api_key was not provided")
        if not key.has_scope(Scope.OPEN311_WRITE):
            raise Open311Error(403, "api_key may not create service requests")
        parsed = parse(data)
        photos = _media(request)
        report = services.ReportInput(
            category=parsed.category,
            description=parsed.description,
            channel=Channel.OPEN311,
            lat=parsed.lat,
            lon=parsed.lon,
            address=parsed.address,
            reporter_user=key.user,
            citizen=parsed.citizen,
        )

        def own_row(case: Case, media_url: str = parsed.media_url) -> Open311Request:
            return Open311Request(
                case=case,
                api_key=key,
                media_url=media_url,
                device_id=parsed.device_id,
                account_id=parsed.account_id,
                attributes=parsed.attributes,
            )

        if photos:
            with transaction.atomic():
                case = services.report(report, photos=photos)
                media_url = parsed.media_url
                if not media_url:
                    # The uploaded picture is published as its EXIF-free copy, never the original.
                    token = Attachment.objects.filter(case=case).values_list("token", flat=True).first()
                    media_url = request.build_absolute_uri(reverse("web:public-photo", args=[token]))
                own_row(case, media_url).save(force_insert=True)
        else:
            case = intake.report(report, companion=own_row)
        doc = {
            "service_request_id": case.code,
            "service_notice": str(fmt.STATUS_NOTES[case.status_enum]),
            "account_id": parsed.account_id or None,
        }
        return fmt.respond(format, "service_requests", [doc])


class RequestView(Open311Read):
    def reads_cache_first(self, request: HttpRequest) -> bool:
        return queries.row_cache_seconds() > 0

    def get(self, request: HttpRequest, request_id: str, format: str) -> HttpResponse:
        case = queries.public_request(request_id)
        if case is None:
            raise Open311Error(404, f"service_request_id {request_id[:40]} was not found")
        return fmt.respond(format, "service_requests", [fmt.request_doc(case)])


class TokenView(Open311Read):
    def get(self, request: HttpRequest, token: str, format: str) -> HttpResponse:
        code = queries.code_for_token(token)
        if code is None:
            raise Open311Error(404, "token was not found")
        return fmt.respond(format, "service_requests", [{"service_request_id": code, "token": token}])


class UpdatesView(Open311Read):
    """GET servicerequestupdates (mySociety's extension): the public steps of each case, so
    a citizen's app can show progress; ``service_request_id`` (CSV) narrows to some cases."""

    def get(self, request: HttpRequest, format: str) -> HttpResponse:
        params = request.GET
        ids = _csv(params, "service_request_id")
        start, end = (
            (None, None)
            if ids and not (params.get("start_date") or params.get("end_date"))
            else _window(params)
        )
        rows = queries.public_updates(list(fmt.PUBLIC_ACTIONS), ids=ids, start=start, end=end)
        return fmt.respond(format, "service_request_updates", [fmt.update_doc(e, code) for e, code in rows])


_read_requests = RequestsRead.as_view()
_create_request = RequestCreate.as_view()


@csrf_exempt
def requests_endpoint(request: HttpRequest, format: str) -> HttpResponseBase:
    """``requests.{fmt}``: GET lists (plain read path), POST creates (DRF: key, parsers)."""
    if request.method == "POST":
        return _create_request(request, format=format)
    return _read_requests(request, format=format)


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Anything else under /open311/v2/: the spec's 404, in XML unless .json was asked for."""
    return fmt.error_response("json" if rest.endswith(".json") else "xml", 404, "no such resource")
