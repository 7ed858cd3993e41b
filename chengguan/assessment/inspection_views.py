"""Inspection pages (检查录入): list, record an inspection, its findings with photos and place,
and the follow-up (追踪督查) that checks a finding was put right.

Thin: who may do what comes from :mod:`chengguan.assessment.access`, reads from ``selectors``,
writes through ``services`` (which also report cases through the case workflow). A refused
form is shown again with the reasons and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from chengguan.assessment import selectors, services
from chengguan.assessment.access import InspectionAccess, access_of, visible_findings, visible_inspections
from chengguan.assessment.forms import FindingForm, FollowUpForm, InspectionForm, apply_error
from chengguan.assessment.models import (
    Finding,
    FindingCheck,
    FindingPhoto,
    FindingStatus,
    InspectionMode,
    RunStatus,
    ScoreLine,
)
from chengguan.org.models import OrgUnit
from chengguan.security.uploads import public_copy, public_name
from chengguan.web.case_views import map_settings


def _access(request: HttpRequest) -> InspectionAccess:
    cached = getattr(request, "_inspection_access", None)
    if cached is None:
        cached = access_of(request.user)
        request._inspection_access = cached  # type: ignore[attr-defined]
    return cached


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message}, status=403)


def _month(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        return None


@login_required
def inspection_list(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    if not access.can_see_any:
        return _forbidden(request, _("检查记录只对考评人员、领导和各单位人员开放。"))
    mode = request.GET.get("mode", "")
    if mode not in InspectionMode.values:
        mode = ""
    unit_text = request.GET.get("unit", "")
    unit_id = int(unit_text) if unit_text.isdigit() else None
    month_text = request.GET.get("month", "").strip()
    month = _month(month_text) if month_text else None
    problems = []
    if month_text and month is None:
        problems.append(_("月份格式应为 2026-03，已忽略该条件。"))
    qs = selectors.inspection_list(visible_inspections(access), mode=mode, unit_id=unit_id, month=month)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    units = OrgUnit.objects.filter(active=True).order_by("kind", "code")
    if not access.reads_all:
        units = units.filter(pk__in=access.units)
    context: dict[str, Any] = {
        "page": page,
        "inspections": page.object_list,
        "modes": InspectionMode.choices,
        "mode": mode,
        "unit_id": unit_id,
        "month": month_text,
        "units": units,
        "problems": problems,
        "access": access,
        "nav_key": "inspections",
    }
    if request.headers.get("HX-Request"):
        return render(request, "assessment/_inspection_table.html", context)
    return render(request, "assessment/inspections.html", context)


@login_required
def inspection_create(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    if not access.can_create:
        return _forbidden(request, _("只有考评人员和检查人员可以录入检查；领导只读。"))
    if request.method == "POST":
        form = InspectionForm(request.POST, access=access)
        if form.is_valid():
            staff = getattr(request.user, "staff", None)
            try:
                inspection = services.record_inspection(form.to_input(staff), request.user)
            except services.AssessmentError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("检查已创建，请录入发现的问题。"))
                return redirect("assessment:inspection", inspection_id=inspection.pk)
        return render(request, "assessment/inspection_form.html", {"form": form}, status=400)
    return render(request, "assessment/inspection_form.html", {"form": InspectionForm(access=access)})


@login_required
def inspection_view(request: HttpRequest, inspection_id: int) -> HttpResponse:
    access = _access(request)
    inspection = get_object_or_404(
        visible_inspections(access).select_related("inspecting_unit", "inspected_unit", "lead_inspector"),
        pk=inspection_id,
    )
    checks = FindingCheck.objects.filter(inspection=inspection).select_related(
        "finding", "finding__item", "finding__unit"
    )
    return render(
        request,
        "assessment/inspection.html",
        {
            "inspection": inspection,
            "findings": selectors.inspection_findings(inspection.pk),
            "checks": checks,
            "may_add": access.may_add_to(inspection) and inspection.mode != InspectionMode.FOLLOW_UP,
            "nav_key": "inspections",
        },
    )


@login_required
def finding_create(request: HttpRequest, inspection_id: int) -> HttpResponse:
    access = _access(request)
    inspection = get_object_or_404(
        visible_inspections(access).select_related("inspecting_unit", "inspected_unit", "lead_inspector"),
        pk=inspection_id,
    )
    if not access.may_add_to(inspection):
        return _forbidden(request, _("只有检查单位的检查人员和考评人员可以录入问题。"))
    if inspection.mode == InspectionMode.FOLLOW_UP:
        return _forbidden(request, _("追踪督查的结果请在原问题页面录入。"))
    status = 200
    if request.method == "POST":
        form = FindingForm(request.POST, request.FILES, inspection=inspection)
        if form.is_valid():
            try:
                finding = services.record_finding(inspection, form.to_input(), request.user)
            except services.AssessmentError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, _("问题已录入。"))
                return redirect(reverse("assessment:inspection", args=[inspection.pk]) + f"#f{finding.pk}")
        status = 400
    else:
        form = FindingForm(inspection=inspection)
    context = {"form": form, "inspection": inspection, **map_settings()}
    return render(request, "assessment/finding_form.html", context, status=status)


@login_required
def finding_view(request: HttpRequest, finding_id: int) -> HttpResponse:
    access = _access(request)
    finding = selectors.finding_detail(visible_findings(access), finding_id)
    if finding is None:
        raise Http404(_("没有该问题或您无权查看。"))
    return render(
        request,
        "assessment/finding.html",
        {
            "finding": finding,
            "photos": list(finding.photos.all()),
            "checks": list(finding.checks.select_related("inspection", "inspection__inspecting_unit")),
            "repeats": list(finding.repeats.select_related("inspection")),
            "may_follow_up": access.can_create and finding.status != FindingStatus.RECTIFIED,
            "nav_key": "inspections",
        },
    )


@login_required
def finding_follow_up(request: HttpRequest, finding_id: int) -> HttpResponse:
    access = _access(request)
    finding = selectors.finding_detail(visible_findings(access), finding_id)
    if finding is None:
        raise Http404(_("没有该问题或您无权查看。"))
    if not access.can_create:
        return _forbidden(request, _("只有考评人员和检查人员可以录入追踪督查。"))
    if request.method != "POST":
        form = FollowUpForm(access=access, finding=finding)
        return render(request, "assessment/follow_up.html", {"form": form, "finding": finding})
    form = FollowUpForm(request.POST, access=access, finding=finding)
    if form.is_valid():
        data = form.cleaned_data
        try:
            check = services.follow_up_finding(
                finding,
                data["inspecting_unit"],
                data["date"],
                data["result"],
                note=data.get("note", ""),
                penalize=bool(data.get("penalize")),
                lead_inspector=getattr(request.user, "staff", None),
                user=request.user,
            )
        except services.AssessmentError as exc:
            apply_error(form, exc)
        else:
            messages.success(
                request, _("追踪督查已记录：%(result)s。") % {"result": check.get_result_display()}
            )
            return redirect("assessment:finding", finding_id=finding.pk)
    return render(request, "assessment/follow_up.html", {"form": form, "finding": finding}, status=400)


@login_required
def finding_photo(request: HttpRequest, token: str) -> HttpResponse:
    """A finding's photo as a copy without EXIF (no position, camera or owner).

    The original stays in storage as evidence.
    """
    access = _access(request)
    photo = FindingPhoto.objects.filter(token=token).select_related("finding").first()
    # Anyone who may read a published run may open the evidence behind its lines.
    published = ScoreLine.objects.filter(finding_id=OuterRef("pk"), result__run__status=RunStatus.PUBLISHED)
    if photo is None or not (
        visible_findings(access).filter(pk=photo.finding_id).exists()
        or Finding.objects.filter(pk=photo.finding_id).filter(Exists(published)).exists()
    ):
        raise Http404(_("照片不存在或您无权查看。"))
    storage, name = photo.file.storage, photo.file.name
    try:
        if storage.exists(public_name(name)):
            with storage.open(public_name(name), "rb") as handle:
                content, content_type = handle.read(), photo.content_type
        else:  # a photo stored before copies were written beside the original
            with photo.file.open("rb") as handle:
                copy = public_copy(handle, max_side=1600)
            content, content_type = copy.content, copy.content_type
    except FileNotFoundError:
        raise Http404(_("照片文件已丢失。")) from None
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{photo.token}{photo.extension}"'
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
