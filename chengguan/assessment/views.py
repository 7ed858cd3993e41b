"""Assessment pages: ranking with charts, one subject's score, the records behind one line.

Thin: reads come from ``selectors``, writes go through ``services``. Published runs are seen
by every signed-in user; drafts, runs and publication are for assessors (考评员) and admins.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from chengguan.assessment import indicators, reports, selectors, services
from chengguan.assessment.models import (
    AssessmentRun,
    Body,
    FrozenError,
    LineSource,
    Measure,
    MeasureStatus,
    PeriodKind,
    Result,
    RunStatus,
    Subject,
)
from chengguan.assessment.periods import parse_period


def can_assess(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.has_perm("assessment.add_assessmentrun"):
        return True
    staff = getattr(user, "staff", None)
    return bool(staff and staff.active and staff.role == "assessor")


def _visible_run(request: HttpRequest, run_id: int) -> AssessmentRun:
    run = get_object_or_404(AssessmentRun.objects.select_related("standard"), pk=run_id)
    if run.status == RunStatus.DRAFT and not can_assess(request.user):
        raise Http404("考评结果尚未发布")
    return run


@login_required
def index(request: HttpRequest) -> HttpResponse:
    assessor = can_assess(request.user)
    run = selectors.latest_run(include_drafts=assessor)
    if run is not None and "list" not in request.GET:
        return redirect("assessment:run", run_id=run.pk)
    return render(
        request,
        "assessment/index.html",
        {
            "runs": selectors.runs(request.user, include_drafts=assessor)[:60],
            "assessor": assessor,
            "kinds": PeriodKind.choices,
            "standard": selectors.active_standard(),
            "default_period": (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m"),
        },
    )


@login_required
def run_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    subjects = selectors.subjects_of(run)
    subject = request.GET.get("subject") or (subjects[0][0] if subjects else Subject.TERRITORIAL)
    if subject not in Subject.values:
        raise Http404("未知的考评对象")
    ranking = selectors.ranking(run, subject)
    chart = {
        "names": [r.name for r in ranking],
        "scores": [str(r.score) for r in ranking],
        "urls": [reverse("assessment:result", args=[r.pk]) for r in ranking],
        "trend": selectors.trend(run, subject),
    }
    assessor = can_assess(request.user)
    return render(
        request,
        "assessment/run.html",
        {
            "run": run,
            "subjects": subjects,
            "subject": subject,
            "subject_label": Subject(subject).label,
            "ranking": ranking,
            "chart": chart,
            "assessor": assessor,
            "measures": selectors.measures(run)[:200],
            "versions": AssessmentRun.objects.filter(
                period_kind=run.period_kind, period_start=run.period_start
            ).order_by("-version"),
            "diff": run.diff.get("changes", [])[:100] if run.diff else [],
            "runs": selectors.runs(request.user, include_drafts=assessor)[:24],
        },
    )


@login_required
def result_view(request: HttpRequest, result_id: int) -> HttpResponse:
    result = selectors.result_detail(result_id)
    if result is None:
        raise Http404("没有该得分")
    _visible_run(request, result.run_id)
    rows = []
    for indicator in indicators.BY_SUBJECT[result.subject]:
        value = result.indicators.get(indicator.code, {})
        rows.append({"indicator": indicator, "value": value})
    lines = selectors.lines_of(result)
    return render(
        request,
        "assessment/result.html",
        {
            "result": result,
            "run": result.run,
            "indicator_rows": rows,
            "finding_lines": [line for line in lines if line.source == LineSource.FINDING],
            "indicator_lines": [line for line in lines if line.source == LineSource.INDICATOR],
            "measures": Measure.objects.filter(run=result.run)
            .filter(Q(unit_id=result.unit_id) if result.unit_id else Q(staff_id=result.staff_id))
            .select_related("rule"),
        },
    )


@login_required
def line_view(request: HttpRequest, line_id: int) -> HttpResponse:
    line = selectors.line_detail(line_id)
    if line is None:
        raise Http404("没有该得分明细")
    _visible_run(request, line.result.run_id)
    context: dict[str, Any] = {"line": line, "result": line.result, "run": line.result.run}
    if line.finding is not None:
        context["finding"] = line.finding
        context["photos"] = line.finding.photos.all()
        context["checks"] = line.finding.checks.select_related("inspection")
        context["repeat_of"] = line.finding.repeat_of
    else:
        context.update(_records(line.result, line.indicator))
    return render(request, "assessment/line.html", context)


@login_required
def indicator_view(request: HttpRequest, result_id: int, code: str) -> HttpResponse:
    result = selectors.result_detail(result_id)
    if result is None:
        raise Http404("没有该得分")
    _visible_run(request, result.run_id)
    context: dict[str, Any] = {"line": None, "result": result, "run": result.run}
    context.update(_records(result, code))
    return render(request, "assessment/line.html", context)


def _records(result: Result, code: str) -> dict[str, Any]:
    indicator = indicators.lookup(result.subject, code)
    if indicator is None:
        raise Http404("未知的指标")
    return {
        "indicator": indicator,
        "value": result.indicators.get(code, {}),
        "records": selectors.indicator_records(result, code),
    }


@login_required
@require_POST
def run_create(request: HttpRequest) -> HttpResponse:
    if not can_assess(request.user):
        raise PermissionDenied
    kind = request.POST.get("kind", "month")
    try:
        period = parse_period(kind, request.POST.get("period", ""))
        run = services.run_assessment(
            kind, period.start, user=request.user, note=request.POST.get("note", "")
        )
    except (ValueError, services.AssessmentError) as exc:
        messages.error(request, str(exc))
        return redirect(reverse("assessment:index") + "?list=1")
    messages.success(request, f"已计算 {run.period_label} 第 {run.version} 版（{run.elapsed_ms} 毫秒）。")
    return redirect("assessment:run", run_id=run.pk)


@login_required
@require_POST
def run_publish(request: HttpRequest, run_id: int) -> HttpResponse:
    if not can_assess(request.user):
        raise PermissionDenied
    run = get_object_or_404(AssessmentRun, pk=run_id)
    try:
        services.publish(run, request.user)
    except (FrozenError, services.AssessmentError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{run.period_label} 第 {run.version} 版已发布，结果已冻结。")
    return redirect("assessment:run", run_id=run.pk)


@login_required
def report_xlsx(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    response = HttpResponse(
        reports.xlsx(run), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="assessment-{run.period_start:%Y%m}-v{run.version}.xlsx"'
    )
    return response


@login_required
def report_pdf(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _visible_run(request, run_id)
    response = HttpResponse(reports.pdf(run), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="assessment-{run.period_start:%Y%m}-v{run.version}.pdf"'
    )
    return response


@login_required
def measure_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    qs = selectors.measures(status=status).exclude(run__status=RunStatus.DRAFT)
    return render(
        request,
        "assessment/measures.html",
        {
            "measures": qs[:300],
            "status": status,
            "statuses": MeasureStatus.choices,
            "bodies": Body.choices,
            "assessor": can_assess(request.user),
        },
    )


@login_required
@require_POST
def measure_follow_up(request: HttpRequest, measure_id: int) -> HttpResponse:
    if not can_assess(request.user):
        raise PermissionDenied
    measure = get_object_or_404(Measure, pk=measure_id)
    try:
        services.follow_up(
            measure,
            request.POST.get("body", ""),
            request.POST.get("to_status", ""),
            request.POST.get("note", ""),
            request.user,
        )
    except (ValueError, services.AssessmentError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已记录跟进。")
    return redirect(reverse("assessment:measures") + f"#m{measure.pk}")
