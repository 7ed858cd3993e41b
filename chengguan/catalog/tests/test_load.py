"""load_catalog against a real database: counts, idempotence, local edits, releases, errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from chengguan.catalog import selectors
from chengguan.catalog.models import (
    AssessmentTier,
    Category,
    DispositionMode,
    LegacyCode,
    MatchMethod,
    PowerItem,
    TimeLimit,
)
from chengguan.catalog.services import CatalogDataError, LoadReport, catalog_load
from chengguan.org.models import FunctionalDomain

pytestmark = pytest.mark.django_db


def state() -> dict[str, Any]:
    """Every row the loader writes, with its timestamps, for before/after comparisons."""
    return {
        "domains": sorted(FunctionalDomain.objects.values_list("code", "name", "updated_at")),
        "categories": sorted(
            Category.objects.values_list(*[f.attname for f in Category._meta.concrete_fields])
        ),
        "limits": sorted(
            TimeLimit.objects.values_list(*[f.attname for f in TimeLimit._meta.concrete_fields])
        ),
        "legacy": sorted(
            LegacyCode.objects.values_list(*[f.attname for f in LegacyCode._meta.concrete_fields])
        ),
        "powers": sorted(
            PowerItem.objects.values_list(*[f.attname for f in PowerItem._meta.concrete_fields])
        ),
        "power_links": sorted(
            PowerItem.categories.through.objects.values_list("poweritem_id", "category_id")
        ),
    }


def cat(kind: str, code: str) -> Category:
    return Category.objects.get(kind=kind, code=code)


def rewrite(path: Path, change: Any) -> None:
    """Edit a shipped CSV file in the copy: ``change`` gets and returns the list of dicts."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# --- counts --------------------------------------------------------------------------------


def test_counts_after_load(loaded: LoadReport) -> None:
    assert Category.objects.count() == 403
    assert Category.objects.filter(kind="component").count() == 153
    assert Category.objects.filter(kind="matter").count() == 250
    assert LegacyCode.objects.count() == 139
    assert FunctionalDomain.objects.count() == 9
    assert loaded.parts["categories"].created == 403
    assert loaded.parts["legacy"].created == 139
    # Every category received its sample settings and every step a limit.
    assert not Category.objects.filter(domain__isnull=True).exists()
    for category in Category.objects.prefetch_related("time_limits"):
        steps = {limit.step for limit in category.time_limits.all()}
        assert steps == {"verify", "register", "dispatch", "handle", "check"}, category
    assert PowerItem.objects.count() == 24


def test_legacy_codes_point_at_their_successors(loaded: LoadReport) -> None:
    assert selectors.legacy_category("component", "0101") == cat("component", "01001")
    legacy = LegacyCode.objects.get(kind="component", code="0101")
    assert (legacy.name, legacy.match) == ("上水井盖", MatchMethod.CODE_RULE)
    # A 2013 event of class 01 lands in matter class 06.
    assert selectors.legacy_category("matter", "0102") == cat("matter", "06010")
    assert selectors.legacy_category("matter", "0509") is None
    unmatched = LegacyCode.objects.filter(category__isnull=True)
    assert unmatched.count() == 13
    assert all(row.match == MatchMethod.UNMATCHED and row.note for row in unmatched)


def test_sample_settings_follow_the_rules(loaded: LoadReport) -> None:
    cover = cat("matter", "01001")
    assert cover.round_the_clock and cover.domain and cover.domain.code == "municipal"
    assert "井盖" in cover.registration_criteria
    assert cat("component", "01001").round_the_clock
    assert not cat("component", "01001").public and cat("matter", "01001").public
    assert not cat("matter", "06010").round_the_clock
    building = cat("matter", "06001")
    assert building.domain is not None and building.domain.code == "planning"
    assert building.assessment_tier == AssessmentTier.ZERO_TOLERANCE
    assert building.disposition_mode == DispositionMode.ENFORCEMENT
    assert "《中华人民共和国城乡规划法》" in building.legal_basis
    assert cat("matter", "06010").registration_criteria.startswith("主次干道成堆成片")
    parking = cat("matter", "09009")
    assert parking.domain is not None and parking.domain.code == "traffic"
    assert parking.assessment_tier == AssessmentTier.STRICT


def test_time_limit_selector_on_loaded_data(loaded: LoadReport) -> None:
    garbage = cat("matter", "06010")
    assert selectors.time_limit_hours(garbage, "handle", "A", "ordinary") == Decimal(4)
    assert selectors.time_limit_hours(garbage, "handle", "B", "ordinary") == Decimal(8)
    assert selectors.time_limit_hours(garbage, "handle", "A", "engineering") == Decimal(8)  # generic row
    assert selectors.time_limit_hours(garbage, "verify") == Decimal(1)
    building = cat("matter", "06001")
    assert selectors.time_limit_hours(building, "handle", "A", "engineering") == Decimal(120)
    assert selectors.time_limit_hours(building, "handle", "B", "engineering") == Decimal(160)
    assert selectors.time_limit_hours(building.pk, "handle", "", "special") == Decimal(56)
    cover = cat("matter", "01003")
    assert selectors.time_limit_hours(cover, "handle", "A", "ordinary") == Decimal(3)
    assert selectors.time_limit_hours(cover, "handle", "C", "ordinary") == Decimal(6)
    assert selectors.time_limit_hours(cover, "verify") == Decimal("0.5")
    source = TimeLimit.objects.get(
        category=garbage, step="handle", area_class="B", work_kind="ordinary"
    ).source
    assert "济源" in source
    assert (
        selectors.time_limit_hours(
            Category.objects.create(kind="matter", code="10999", major_code="10"), "handle"
        )
        is None
    )


def test_powers_are_versioned(loaded: LoadReport) -> None:
    noise = list(PowerItem.objects.filter(code="HB-003").order_by("effective_from"))
    assert [p.effective_from for p in noise] == [dt.date(2019, 1, 1), dt.date(2022, 6, 5)]
    assert "噪声污染防治法" in noise[1].legal_basis
    in_2021 = {p.code: p for p in selectors.powers_in_force(dt.date(2021, 1, 1))}
    in_2023 = {p.code: p for p in selectors.powers_in_force(dt.date(2023, 1, 1))}
    assert in_2021["HB-003"].pk == noise[0].pk and in_2023["HB-003"].pk == noise[1].pk
    # The seed's additions only count from their later effective date.
    additions = {"SRHW-010", "GH-010", "HB-010"}
    assert not additions & {p.code for p in selectors.powers_in_force(dt.date(2020, 6, 30))}
    assert additions <= {p.code for p in selectors.powers_in_force(dt.date(2020, 7, 1))}
    dumping = PowerItem.objects.get(code="SRHW-010")
    assert dumping.effective_from == dt.date(2020, 7, 1)
    assert {c.code for c in dumping.categories.all()} == {"06025", "06026"}
    assert PowerItem.objects.get(code="HB-010").domain.code == "environment"


def test_a_later_version_supersedes_an_open_ended_one(loaded: LoadReport) -> None:
    first = PowerItem.objects.get(code="SCJG-001")
    PowerItem.objects.create(
        code="SCJG-001",
        name=first.name,
        domain=first.domain,
        legal_basis="新版依据",
        responsible_unit_kind=first.responsible_unit_kind,
        effective_from=dt.date(2024, 1, 1),
    )
    assert {p.code: p.legal_basis for p in selectors.powers_in_force(dt.date(2025, 1, 1))}[
        "SCJG-001"
    ] == "新版依据"
    assert {p.code: p.pk for p in selectors.powers_in_force(dt.date(2023, 1, 1))}["SCJG-001"] == first.pk


# --- idempotence and local edits ------------------------------------------------------------


def test_second_load_changes_nothing(loaded: LoadReport) -> None:
    before = state()
    again = catalog_load()
    assert state() == before  # same values and the same updated_at everywhere
    assert not again.changed
    assert all(part.created == part.updated == 0 for part in again.parts.values())
    assert "未变" in again.summary()


def test_command_reports_unchanged_on_second_run(db: None) -> None:
    first, second = io.StringIO(), io.StringIO()
    call_command("load_catalog", stdout=first)
    call_command("load_catalog", stdout=second)
    assert "新增 403 条" in first.getvalue()
    assert "全部未变" in second.getvalue()
    assert "未变 403 条" in second.getvalue()


def test_local_edits_survive_a_reload(loaded: LoadReport) -> None:
    greening = FunctionalDomain.objects.get(code="greening")
    garbage = cat("matter", "06010")
    garbage.domain = greening
    garbage.assessment_tier = AssessmentTier.ROUTINE
    garbage.closure_criteria = "本局标准：清理并冲洗"
    garbage.active = False
    garbage.save()
    limit = TimeLimit.objects.get(category=garbage, step="handle", area_class="A", work_kind="ordinary")
    limit.hours = Decimal("2.5")
    limit.save()
    TimeLimit.objects.filter(category=garbage, step="check").delete()
    legacy = LegacyCode.objects.get(kind="component", code="0117")
    legacy.category, legacy.match = cat("component", "01030"), MatchMethod.MANUAL
    legacy.save()
    power = PowerItem.objects.get(code="SRHW-001")
    power.legal_basis = "《城市市容和环境卫生管理条例》第十四条"
    power.save()
    power.categories.remove(cat("matter", "06036"))
    # The national name changes in the database (as if an old release had another name).
    renamed = cat("matter", "06012")
    renamed.name = "旧名称"
    renamed.save()

    report = catalog_load()

    garbage.refresh_from_db()
    assert garbage.domain == greening
    assert garbage.assessment_tier == AssessmentTier.ROUTINE
    assert garbage.closure_criteria == "本局标准：清理并冲洗"
    assert garbage.active is False
    limit.refresh_from_db()
    assert limit.hours == Decimal("2.5")
    assert not TimeLimit.objects.filter(category=garbage, step="check").exists()  # not re-created
    legacy.refresh_from_db()
    assert legacy.category == cat("component", "01030")
    power.refresh_from_db()
    assert power.legal_basis.endswith("第十四条")
    assert not power.categories.filter(code="06036").exists()
    assert cat("matter", "06012").name == "道路不洁"  # national fields are refreshed
    assert report.parts["settings"].kept == 1
    assert report.parts["limits"].kept == 2  # the edited row and the deleted row
    assert report.parts["categories"].updated == 1
    assert "保留本地修改" in "\n".join(report.lines())

    # --reset-local puts the samples back.
    catalog_load(reset_local=True)
    garbage.refresh_from_db()
    assert garbage.domain is not None and garbage.domain.code == "sanitation"
    assert garbage.assessment_tier == AssessmentTier.ZERO_TOLERANCE
    assert garbage.closure_criteria == "彻底清理"
    assert garbage.active is False  # not a sample value: the bureau's alone
    assert selectors.time_limit_hours(garbage, "handle", "A", "ordinary") == Decimal(4)
    assert selectors.time_limit_hours(garbage, "check") == Decimal(2)
    legacy.refresh_from_db()
    assert legacy.category is None and legacy.match == MatchMethod.UNMATCHED
    power.refresh_from_db()
    assert power.legal_basis == "《城市市容和环境卫生管理条例》"
    assert power.categories.filter(code="06036").exists()
    # … and after that, a plain reload is quiet again.
    assert not catalog_load().changed


def test_bureau_rows_outside_the_samples_are_left_alone(loaded: LoadReport) -> None:
    garbage = cat("matter", "06010")
    own = TimeLimit.objects.create(
        category=garbage, step="handle", area_class="A", work_kind="special", hours=3
    )
    own_power = PowerItem.objects.create(
        code="LOCAL-1",
        name="本局事项",
        domain=FunctionalDomain.objects.get(code="market"),
        legal_basis="《某条例》",
        responsible_unit_kind="bureau",
        effective_from=dt.date(2024, 1, 1),
    )
    catalog_load(reset_local=True)
    assert TimeLimit.objects.filter(pk=own.pk, hours=3).exists()
    assert PowerItem.objects.filter(pk=own_power.pk).exists()


def test_a_new_release_reaches_untouched_rows_only(loaded: LoadReport, data_copy: Path) -> None:
    edited = cat("matter", "06028")
    edited.legal_basis = "本局写的依据"
    edited.save()

    def raise_noise_and_smoke(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for row in rows:
            if row["code"] in ("06027", "06028"):
                row["legal_basis"] = "《新发布的依据》"
        return rows

    def shorten_garbage(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for row in rows:
            if row["code"] == "06010" and row["area_class"] == "A":
                row["hours"] = "3"
        return rows

    rewrite(data_copy / "sample_settings.csv", raise_noise_and_smoke)
    rewrite(data_copy / "sample_time_limits.csv", shorten_garbage)
    report = catalog_load(data_dir=data_copy)
    assert cat("matter", "06027").legal_basis == "《新发布的依据》"
    assert cat("matter", "06028").legal_basis == "本局写的依据"
    assert selectors.time_limit_hours(cat("matter", "06010"), "handle", "A", "ordinary") == Decimal(3)
    assert (report.parts["settings"].updated, report.parts["settings"].kept) == (1, 1)
    assert report.parts["limits"].updated == 1
    assert not catalog_load(data_dir=data_copy).changed


# --- parts and errors ---------------------------------------------------------------------------


def test_only_some_parts(db: None) -> None:
    report = catalog_load(parts=["categories"])
    assert set(report.parts) == {"categories"}
    assert Category.objects.count() == 403
    assert not TimeLimit.objects.exists() and not FunctionalDomain.objects.exists()
    assert not Category.objects.filter(domain__isnull=False).exists()
    report = catalog_load(parts=["settings"])
    assert report.parts["settings"].updated == 403
    assert FunctionalDomain.objects.count() == 9 and not TimeLimit.objects.exists()
    out = io.StringIO()
    call_command("load_catalog", "--only", "limits,powers", stdout=out)
    assert TimeLimit.objects.exists() and PowerItem.objects.exists()
    assert "环节时限：新增" in out.getvalue()


def test_settings_need_categories_first(db: None) -> None:
    with pytest.raises(CatalogDataError, match="请先载入类别"):
        catalog_load(parts=["settings"])
    with pytest.raises(CatalogDataError, match="未知的载入部分"):
        catalog_load(parts=["everything"])


def test_existing_domain_with_another_code_is_reused(db: None) -> None:
    mine = FunctionalDomain.objects.create(code="shirong", name="市容环卫")
    catalog_load()
    assert FunctionalDomain.objects.count() == 9
    assert cat("matter", "06010").domain == mine
    assert PowerItem.objects.get(code="SRHW-001").domain == mine
    assert not catalog_load().changed


def test_broken_shipped_files_change_nothing(loaded: LoadReport, data_copy: Path) -> None:
    def break_limits(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[0]["hours"] = "-1"
        rows[1]["step"] = "处理"
        return rows

    def break_settings(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[2]["domain"] = "nowhere"
        rows.append({**rows[3], "code": "06999"})
        return rows

    def break_powers(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        rows[0]["categories"] = "事项06999"
        rows[1]["effective_to"] = "2000-01-01"
        return rows

    rewrite(data_copy / "sample_time_limits.csv", break_limits)
    rewrite(data_copy / "sample_settings.csv", break_settings)
    rewrite(data_copy / "sample_powers.csv", break_powers)
    before = state()
    with pytest.raises(CatalogDataError) as caught:
        catalog_load(data_dir=data_copy, reset_local=True)
    text = "\n".join(caught.value.problems)
    for fragment in [
        "“-1”不是时限",
        "环节“处理”无效",
        "nowhere",
        "06999 在目录中不存在",
        "事项 06999 不在类别目录中",
        "失效日期早于生效日期",
    ]:
        assert fragment in text
    assert state() == before

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("load_catalog", "--data-dir", str(data_copy), stderr=err)
    assert "数据库未做任何修改" in err.getvalue()
    assert state() == before


def test_build_crosswalk_command(data_copy: Path) -> None:
    out = io.StringIO()
    call_command("build_crosswalk", "--check", "--data-dir", str(data_copy), stdout=out)
    assert "是最新的" in out.getvalue()
    (data_copy / "crosswalk_2013_2026.csv").write_text("old_kind\n", encoding="utf-8")
    with pytest.raises(CommandError, match="不是最新"):
        call_command("build_crosswalk", "--check", "--data-dir", str(data_copy))
    call_command("build_crosswalk", "--data-dir", str(data_copy), stdout=io.StringIO())
    call_command("build_crosswalk", "--check", "--data-dir", str(data_copy), stdout=io.StringIO())
