"""Pages of the case workflow: inspector, command centre, unit inbox, case page.

Views parse input, call ``chengguan.cases.services`` and ``selectors`` and render. Which
actions show comes from ``workflow.available`` through the selectors; what a case may become
is decided by the services.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from chengguan.calendar.selectors import work_calendar
from chengguan.cases import selectors, services
from chengguan.cases.forms import QueueFilterForm, ReportForm, TransitionForm, parse_picks
from chengguan.cases.models import Case
from chengguan.cases.services import CaseError, StaleCase, TransitionInput
from chengguan.cases.workflow import BY_ACTION, ROLE_LABELS, STATUS_LABELS, Role, Status, WorkflowError
from chengguan.org.models import StaffRole
from chengguan.security import policy
from chengguan.security.privacy import (
    PERSONAL_FIELDS,
    log_personal_data_view,
    mask_contact,
    mask_phones_in_text,
    shown_actor_name,
)
from chengguan.web.access import any_staff, command_only, handler_only, inspector_only, page_for, viewer
from chengguan.web.panels import Choices, action_forms, make_form


def map_settings() -> dict[str, Any]:
    lat, lon = selectors.map_center()
    return {
        "map_tiles": getattr(settings, "CHENGGUAN_MAP_TILES", ""),
        "map_attribution": getattr(settings, "CHENGGUAN_MAP_ATTRIBUTION", ""),
        "map_lat": lat,
        "map_lon": lon,
    }


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return str(dict(StaffRole.choices).get(role, role))


def status_label(status: str) -> str:
    try:
        return STATUS_LABELS[Status(status)]
    except ValueError:
        return status


# -- inspector (/m/) -----------------------------------------------------------------------


@page_for(inspector_only, "巡查上报页面只对巡查员和协管员开放。")
def inspector(request: HttpRequest, form: ReportForm | None = None, status: int = 200) -> HttpResponse:
    current = viewer(request)
    choices = Choices()
    calendar = work_calendar()
    now = timezone.now()
    tasks = [
        {
            "case": case,
            "light": selectors.light_of(case, calendar, now),
            "actions": action_forms(current, case, choices=choices),
            "photos": list(case.attachments.all()),
        }
        for case in selectors.inspector_tasks(current)[:50]
    ]
    context = {
        "form": form or ReportForm(),
        "groups": selectors.category_groups(),
        "tasks": tasks,
        "reports": selectors.my_reports(current, limit=10),
        "nav_key": "inspector",
        **map_settings(),
    }
    return render(request, "web/cases/inspector.html", context, status=status)


@require_POST
@page_for(inspector_only, "只有巡查员和协管员可以巡查上报。")
def inspector_report(request: HttpRequest) -> HttpResponse:
    current = viewer(request)
    form = ReportForm(request.POST, request.FILES)
    if not form.is_valid():
        return inspector(request, form=form, status=400)
    assert current.staff is not None
    try:
        # The service stores the photos in its own transaction: file and row, or neither.
        case = services.report(
            form.to_input(current.staff, request.user), photos=form.cleaned_data.get("photos") or []
        )
    except CaseError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return inspector(request, form=form, status=400)
    messages.success(request, _("已上报，案件编号 %(code)s。") % {"code": case.code})
    if form.location_from_photo:
        messages.info(request, _("未定位或选点：案件位置取自照片中的拍摄位置。"))
    return redirect("web:inspector")


@require_GET
def category_options(request: HttpRequest) -> HttpResponse:
    """The category picker's options for a search (htmx); visitors get the public part only."""
    public_only = request.GET.get("public") == "1" or not request.user.is_authenticated
    groups = selectors.category_groups(public_only=public_only, search=request.GET.get("q", "")[:40])
    return render(
        request,
        "web/cases/_category_options.html",
        {"groups": groups, "selected": request.GET.get("category", "")},
    )


# -- command centre (/command/) ------------------------------------------------------------


@require_GET
@page_for(command_only, "指挥中心页面只对受理员、值班长、派遣员和领导开放。")
def command(request: HttpRequest) -> HttpResponse:
    current = viewer(request)
    territories = selectors.territories()
    form = QueueFilterForm(request.GET or None, territories=territories)
    filters = form.filters()
    calendar = work_calendar()
    queue = selectors.command_queue(current, filters, calendar=calendar)
    rows = [
        {"row": row, "actions": [t.action for t in selectors.actions_for(current, row.case)]}
        for row in queue.rows
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "queue": queue,
        "rows": rows,
        "points": queue.points(),
        "query": query.urlencode(),
        "here": request.get_full_path(),
        "nav_key": "command",
        **map_settings(),
    }
    if request.headers.get("HX-Request"):
        return render(request, "web/cases/_queue.html", context)
    # The filter bar is drawn from plain lists: Django's widget templates cost a template
    # render per option, and the catalogue has hundreds of categories.
    context.update(
        {
            "groups": selectors.category_groups(),
            "territories": territories,
            "status_choices": form.fields["status"].choices,  # type: ignore[attr-defined]
            "light_choices": form.fields["light"].choices,  # type: ignore[attr-defined]
            "channel_choices": form.fields["channel"].choices,  # type: ignore[attr-defined]
            "selected": {
                "status": filters.status,
                "category": str(filters.category_id or ""),
                "territory": str(filters.territory_id or ""),
                "light": filters.light.value if filters.light else "",
                "channel": filters.channel,
                "q": filters.q,
            },
        }
    )
    return render(request, "web/cases/command.html", context)


@require_POST
@page_for(command_only, "只有派遣员可以批量派遣。")
def bulk_dispatch(request: HttpRequest) -> HttpResponse:
    current = viewer(request)
    back = safe_next(request, reverse("web:command"))
    picks = parse_picks(request.POST.getlist("pick"))
    if not picks:
        messages.error(request, _("请先勾选要派遣的案件。"))
        return redirect(back)
    cases = {c.pk: c for c in selectors.dispatchable(current, [pk for pk, _v in picks])}
    done: list[str] = []
    failed: list[str] = []
    for pk, version in picks:
        case = cases.get(pk)
        if case is None:
            continue
        try:
            updated = services.transition(
                pk, TransitionInput(action="dispatch", expected_version=version), request.user
            )
        except (CaseError, WorkflowError) as error:
            failed.append(f"{case.code}：{error}")
            continue
        done.append(f"{updated.code} → {updated.lead_unit.name if updated.lead_unit else ''}")
    if done:
        messages.success(request, _("已派遣 %(n)s 件：%(list)s") % {"n": len(done), "list": "；".join(done)})
    for line in failed:
        messages.error(request, _("未派遣 %(line)s") % {"line": line})
    return redirect(back)


# -- unit inbox (/unit/) -------------------------------------------------------------------


@require_GET
@page_for(handler_only, "单位待办页面只对处置单位人员开放。")
def unit(request: HttpRequest) -> HttpResponse:
    current = viewer(request)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    cases, has_next = selectors.unit_inbox(current, page=page)
    choices = Choices()
    calendar = work_calendar()
    now = timezone.now()
    items = [
        {
            "case": case,
            "light": selectors.light_of(case, calendar, now),
            "actions": action_forms(current, case, choices=choices),
            "photos": list(case.attachments.all()),
        }
        for case in cases
    ]
    unit_name = current.staff.unit.name if current.staff else ""
    return render(
        request,
        "web/cases/unit.html",
        {
            "items": items,
            "page": page,
            "has_next": has_next,
            "unit_name": unit_name,
            "nav_key": "unit",
        },
    )


# -- the case page (/cases/<code>/) --------------------------------------------------------


def _case_or_404(request: HttpRequest, code: str) -> Case:
    case = selectors.case_for(viewer(request), code)
    if case is None:
        raise Http404(_("案件不存在或您无权查看。"))
    return case


def _detail_context(
    request: HttpRequest, case: Case, *, bound: TransitionForm | None = None
) -> dict[str, Any]:
    current = viewer(request)
    calendar = work_calendar()
    events = selectors.timeline(case)
    forms = action_forms(current, case, bound=bound)
    duplicates = _duplicates(case, forms)
    citizen = _citizen(request, case) if current.is_command else None
    revealed = bool(citizen and citizen["revealed"])
    return {
        "case": case,
        "revealed": revealed,
        "description": case.description if revealed else mask_phones_in_text(case.description),
        "status_label": STATUS_LABELS[case.status_enum],
        "light": selectors.light_of(case, calendar, timezone.now()),
        "events": [
            {
                "event": e,
                "actor": e.actor_name if revealed else shown_actor_name(e.actor_name, e.actor_role),
                "note": e.note if revealed else mask_phones_in_text(e.note),
                "role": role_label(e.actor_role),
                "from_label": status_label(e.from_status) if e.from_status else "",
                "to_label": status_label(e.to_status),
                "photos": list(e.attachments.all()),
            }
            for e in events
        ],
        "photos": selectors.attachments_of(case),
        "case_points": [
            {"code": case.code, "lat": case.lat, "lon": case.lon, "light": "", "title": case.code}
        ]
        if case.lat is not None
        else [],
        "co_handlers": selectors.co_handlers_of(case),
        "actions": forms,
        "duplicates": duplicates,
        "citizen": citizen,
        # Where the action forms return to: the page they were posted from, else this case.
        "here": safe_next(request, reverse("web:case", args=[case.code])),
        **map_settings(),
    }


def _citizen(request: HttpRequest, case: Case) -> dict[str, Any] | None:
    """The reporter's contact for the command centre: masked, unless a post that calls
    citizens back asks to see it (``?reveal=contact``), which is logged with who, when and
    which case before the values reach the page."""
    contact = selectors.citizen_contact(case)
    if contact is None or not (contact.name or contact.phone or contact.email):
        return None
    may_reveal = policy.may_reveal_contact(policy.request_post(request))
    if may_reveal and request.method == "GET" and request.GET.get("reveal") == "contact":
        shown = [name for name in PERSONAL_FIELDS if getattr(contact, name)]
        log_personal_data_view(request.user, case, shown, "web:case", request=request)
        values = {"name": contact.name, "phone": contact.phone, "email": contact.email}
        return {**values, "revealed": True, "may_reveal": True}
    masked = mask_contact(contact.name, contact.phone, contact.email)
    return {**masked, "revealed": False, "may_reveal": may_reveal}


@require_GET
@page_for(any_staff, "请使用工作人员账号登录。")
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    case = _case_or_404(request, code)
    return render(request, "web/cases/detail.html", _detail_context(request, case))


@require_GET
@page_for(any_staff, "请使用工作人员账号登录。")
def case_actions(request: HttpRequest, code: str) -> HttpResponse:
    """The action forms of one case (htmx, under a queue row)."""
    case = _case_or_404(request, code)
    forms = action_forms(viewer(request), case)
    return render(
        request,
        "web/cases/_actions.html",
        {
            "case": case,
            "actions": forms,
            "duplicates": _duplicates(case, forms),
            "here": safe_next(request, reverse("web:case", args=[code])),
        },
    )


def _duplicates(case: Case, forms: list[Any]) -> list[selectors.Duplicate]:
    """Likely duplicates, only for someone who may mark the case as one."""
    if any(f.transition.action == "mark_duplicate" for f in forms):
        return selectors.likely_duplicates(case)
    return []


@require_POST
@page_for(any_staff, "请使用工作人员账号登录。")
def case_transition(request: HttpRequest, code: str) -> HttpResponse:
    """Every action form posts here: one service call, plus its photos, in one transaction."""
    case = _case_or_404(request, code)
    transition = BY_ACTION.get(request.POST.get("action", ""))
    if transition is None:
        messages.error(request, _("未知的操作。"))
        return render(request, "web/cases/detail.html", _detail_context(request, case), status=400)
    form = make_form(transition, case, Choices(), request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request, "web/cases/detail.html", _detail_context(request, case, bound=form), status=400
        )
    try:
        updated = services.transition(
            case.pk, form.to_input(), request.user, photos=form.checked_photos, photo_kind=form.photo_kind
        )
    except StaleCase as error:
        messages.error(request, str(error))
        fresh = _case_or_404(request, code)
        return render(request, "web/cases/detail.html", _detail_context(request, fresh), status=409)
    except CaseError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return render(
            request, "web/cases/detail.html", _detail_context(request, case, bound=form), status=400
        )
    except WorkflowError as error:
        messages.error(request, str(error))
        fresh = _case_or_404(request, code)
        return render(request, "web/cases/detail.html", _detail_context(request, fresh), status=403)
    messages.success(
        request,
        _("案件 %(code)s：已%(label)s，当前状态“%(status)s”。")
        % {"code": updated.code, "label": transition.label, "status": STATUS_LABELS[updated.status_enum]},
    )
    return redirect(safe_next(request, reverse("web:case", args=[updated.code])))


@require_GET
@page_for(any_staff, "请使用工作人员账号登录。")
def photo(request: HttpRequest, token: str) -> HttpResponseBase:
    """A case photo, to logged-in staff who may see its case."""
    attachment = selectors.attachment_for(viewer(request), token)
    if attachment is None:
        raise Http404(_("照片不存在或您无权查看。"))
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("照片文件已丢失。")) from None
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = f'inline; filename="{attachment.token}{attachment.extension}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
