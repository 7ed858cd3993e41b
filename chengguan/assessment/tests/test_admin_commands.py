"""Admin pages (standard editing and its lock, import page, read-only runs) and commands."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from chengguan.assessment import services
from chengguan.assessment.models import AssessmentRun, Standard

from .conftest import World, at


@pytest.fixture
def admin(world: World) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "", "x-secret-pass-1"))
    return client


def test_standard_is_editable_until_a_run_is_published(world: World, admin: Client) -> None:
    url = reverse("admin:assessment_standard_change", args=[world.standard.pk])
    page = admin.get(url).content.decode()
    assert "从 CSV/XLSX 导入" in page and 'name="items-0-points"' in page
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    page = admin.get(url).content.decode()
    assert 'name="items-0-points"' in page  # a draft run does not lock it
    services.publish(run)
    page = admin.get(url).content.decode()
    assert 'name="items-0-points"' not in page and "从 CSV/XLSX 导入" not in page
    assert admin.get(reverse("admin:assessment_standard_import", args=[world.standard.pk])).status_code == 403


def test_import_page(world: World, admin: Client) -> None:
    url = reverse("admin:assessment_standard_import", args=[world.standard.pk])
    assert "监管部门编码" in admin.get(url).content.decode()
    upload = ("items.csv", "编号,层级,条目,分值\nR9,常规,信息报送不及时,-0.5\n".encode())
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = admin.post(url, {"table": "items", "file": SimpleUploadedFile(*upload), "dry_run": ""})
    assert "新增 1 条" in page.content.decode()
    assert world.standard.items.filter(code="R9").exists()


def test_runs_are_read_only_once_published(world: World, admin: Client) -> None:
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    assert admin.get(reverse("admin:assessment_assessmentrun_change", args=[run.pk])).status_code == 200
    services.publish(run)
    page = admin.get(reverse("admin:assessment_assessmentrun_change", args=[run.pk])).content.decode()
    assert 'name="note"' not in page
    assert (
        admin.post(
            reverse("admin:assessment_assessmentrun_delete", args=[run.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert AssessmentRun.objects.filter(pk=run.pk).exists()
    result = run.results.first()
    assert admin.get(reverse("admin:assessment_result_change", args=[result.pk])).status_code == 200
    assert (
        admin.post(reverse("admin:assessment_result_change", args=[result.pk]), {"score": "1"}).status_code
        == 403
    )


def test_finding_admin_locks_counted_findings(world: World, admin: Client) -> None:
    finding = world.finding("Z1", world.t1, at("2026-03-03"))
    url = reverse("admin:assessment_finding_change", args=[finding.pk])
    assert 'name="quantity"' in admin.get(url).content.decode()
    services.publish(services.run_assessment("month", dt.date(2026, 3, 1)))
    assert 'name="quantity"' not in admin.get(url).content.decode()


def test_commands(world: World, tmp_path) -> None:
    world.finding("S1", world.t1, at("2026-03-03"))
    out = StringIO()
    call_command("assessment_run", "2026-03", "--publish", stdout=out)
    assert "2026 年 3 月 v1（已发布）" in out.getvalue()
    world.finding("S1", world.t2, at("2026-03-04"))
    out = StringIO()
    call_command("assessment_run", "2026-03", stdout=out)
    assert "与 v1 相比" in out.getvalue() and "西苑街道：100.00 → 99.00" in out.getvalue()
    with pytest.raises(CommandError, match="无法识别"):
        call_command("assessment_run", "March", stdout=StringIO())
    items = tmp_path / "items.csv"
    items.write_text("编号,层级,条目,分值\nN1,常规,新条目,-1\n", encoding="utf-8")
    out = StringIO()
    call_command("assessment_import", "local", "--items", str(items), "--name", "本区标准", stdout=out)
    assert "新增 1 条" in out.getvalue()
    assert Standard.objects.get(code="local").items.count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,层级,条目,分值\nN2,未知,x,-1\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("assessment_import", "local", "--items", str(bad), stdout=StringIO())
    out = StringIO()
    call_command("assessment_sample", stdout=out)
    assert "6" in out.getvalue() or "条目" in out.getvalue()
