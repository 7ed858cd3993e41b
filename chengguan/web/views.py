from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from chengguan.web import selectors


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"overview": selectors.district_overview()})


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
