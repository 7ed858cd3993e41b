"""The citizen's page: complain, follow a case by its code and follow code, rate the result."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chengguan.api.auth import client_address, parse_rate
from chengguan.cases import selectors, services
from chengguan.cases.forms import ComplaintForm, FollowForm, RateForm
from chengguan.cases.models import PUBLIC_CHANNELS, Attachment, AttachmentKind, CitizenContact
from chengguan.cases.services import CaseError, TransitionInput
from chengguan.cases.workflow import WorkflowError
from chengguan.security import uploads
from chengguan.web.case_views import map_settings

SESSION_KEY = "chengguan_complaint"
# Submissions per client address and form (complain, follow, rate) in a fixed window: enough
# for a citizen, too few to flood the queue with complaints or to guess follow codes.
DEFAULT_PUBLIC_RATE = "20/h"


def over_public_rate(request: HttpRequest, form: str) -> float | None:
    """Count one submission of ``form`` from this address; seconds to wait when over the limit.

    The address is read through the trusted proxies as the API's anonymous limit reads it, so
    citizens behind one proxy are not one person; the counter lives in Django's cache (shared
    once a deployment configures Redis).
    """
    limit, period = parse_rate(getattr(settings, "CHENGGUAN_PUBLIC_FORM_RATE", DEFAULT_PUBLIC_RATE))
    now = time.time()
    key = f"cg-public:{form}:{client_address(request)}:{int(now // period)}"
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # the window expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    return period - (now % period) if count > limit else None


def _too_many(request: HttpRequest, wait: float) -> HttpResponse:
    minutes = max(1, round(wait / 60))
    messages.error(request, _("提交过于频繁，请 %(minutes)s 分钟后再试。") % {"minutes": minutes})
    response = _page(request, status=429)
    response["Retry-After"] = str(int(wait) + 1)
    return response


def _page(
    request: HttpRequest,
    *,
    complaint: ComplaintForm | None = None,
    follow: FollowForm | None = None,
    found: selectors.PublicCase | None = None,
    rate: RateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "complaint": complaint or ComplaintForm(),
        "follow": follow or FollowForm(),
        "found": found,
        "rate": rate,
        "groups": selectors.category_groups(public_only=True),
        "nav_key": "public",
        **map_settings(),
    }
    return render(request, "web/public/index.html", context, status=status)


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
def complain(request: HttpRequest) -> HttpResponse:
    wait = over_public_rate(request, "complain")
    if wait is not None:
        return _too_many(request, wait)
    form = ComplaintForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, complaint=form, status=400)
    try:
        # The service stores the photos in its own transaction: file and row, or neither.
        case = services.report(form.to_input(), photos=form.cleaned_data.get("photos") or [])
        token = CitizenContact.objects.filter(case=case).values_list("follow_token", flat=True).get()
    except CaseError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return _page(request, complaint=form, status=400)
    # Shown once on the next page; the follow code is not put in a URL.
    request.session[SESSION_KEY] = {"code": case.code, "token": token}
    return redirect("web:public-done")


@require_GET
def complain_done(request: HttpRequest) -> HttpResponse:
    done = request.session.pop(SESSION_KEY, None)
    if not done:
        return redirect("web:public")
    return render(request, "web/public/done.html", {"done": done, "nav_key": "public"})


@require_POST
def follow(request: HttpRequest) -> HttpResponse:
    wait = over_public_rate(request, "follow")
    if wait is not None:
        return _too_many(request, wait)
    form = FollowForm(request.POST)
    if not form.is_valid():
        return _page(request, follow=form, status=400)
    found = selectors.public_case(form.cleaned_data["code"], form.cleaned_data["token"])
    if found is None:
        form.add_error(None, _("案件编号或查询码不正确。"))
        return _page(request, follow=form, status=404)
    rate = (
        RateForm(initial={"code": found.code, "token": form.cleaned_data["token"]})
        if found.can_rate
        else None
    )
    return _page(request, follow=form, found=found, rate=rate)


@require_POST
def rate(request: HttpRequest) -> HttpResponse:
    wait = over_public_rate(request, "rate")
    if wait is not None:
        return _too_many(request, wait)
    form = RateForm(request.POST)
    follow_form = FollowForm(request.POST)
    code, token = request.POST.get("code", ""), request.POST.get("token", "")
    found = selectors.public_case(code, token)
    if found is None:
        follow_form.add_error(None, _("案件编号或查询码不正确。"))
        return _page(request, follow=follow_form, status=404)
    if not found.can_rate:
        follow_form.add_error(None, _("该案件尚未办结或已经评价过，不能再次评价。"))
        return _page(request, follow=follow_form, found=found, status=409)
    if not form.is_valid():
        return _page(request, follow=follow_form, found=found, rate=form, status=400)
    case_id = selectors.case_id_for_public(found.code)
    assert case_id is not None
    try:
        services.transition(
            case_id,
            TransitionInput(
                action="rate",
                satisfaction=form.cleaned_data["satisfaction"],
                note=form.cleaned_data.get("note") or "",
                citizen_token=token,
            ),
            None,
        )
    except (CaseError, WorkflowError) as error:
        form.add_error(None, str(error))
        return _page(request, follow=follow_form, found=found, rate=form, status=400)
    follow_form = FollowForm(initial={"code": found.code})
    return _page(request, follow=follow_form, found=selectors.public_case(code, token))


@require_GET
def public_photo(request: HttpRequest, token: str) -> FileResponse:
    """The EXIF-free copy of a photo a citizen sent (web, Open311), by its unguessable token:
    what Open311's media_url points to. Staff photos and originals are never served here."""
    attachment = (
        Attachment.objects.filter(token=token, kind=AttachmentKind.BEFORE, case__channel__in=PUBLIC_CHANNELS)
        .only("file", "content_type", "token", "extension")
        .first()
    )
    if attachment is None:
        raise Http404(_("照片不存在。"))
    storage = attachment.file.storage
    try:
        name = uploads.ensure_public_copy(storage, attachment.file.name)
    except FileNotFoundError:
        raise Http404(_("照片文件已丢失。")) from None
    response = FileResponse(storage.open(name, "rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="{attachment.token}{attachment.extension}"'
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
