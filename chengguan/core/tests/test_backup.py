"""`chengguan backup` / `chengguan restore`: round trips on the database under test (SQLite or PostgreSQL)."""

from __future__ import annotations

import io
import json
import os
import tarfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from chengguan.cases import services
from chengguan.cases.models import Attachment, Case, CaseEvent, CitizenContact
from chengguan.catalog.models import Category, TimeLimit
from chengguan.core import backup
from chengguan.org.models import OrgUnit, Staff
from chengguan.routing.models import RoutingRule

pytestmark = pytest.mark.django_db(transaction=True)

SNAPSHOT_MODELS = [User, OrgUnit, Staff, Category, Case, CaseEvent, CitizenContact, Attachment]


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        model.__name__: [
            {k: (str(v) if not isinstance(v, int | type(None) | bool) else v) for k, v in row.items()}
            for row in model.objects.order_by("pk").values()
        ]
        for model in SNAPSHOT_MODELS
    }


@pytest.fixture
def place(settings, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


@pytest.fixture
def district(place: Path) -> dict[str, Any]:
    category = Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    for step, hours in (("verify", 2), ("register", 1), ("dispatch", 1), ("handle", 4), ("check", 2)):
        TimeLimit.objects.create(category=category, step=step, hours=Decimal(hours))
    bureau = OrgUnit.objects.create(code="BUR", name="示例区综合执法局", kind="bureau")
    sanitation = OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department")
    town = OrgUnit.objects.create(code="T01", name="东岭街道", kind="subdistrict")
    RoutingRule.objects.create(category=category, lead_unit=sanitation, note="环卫统一保洁")
    leader = User.objects.create_user("shift", password="Hongshan-Grid-2026")
    Staff.objects.create(code="S001", name="值班长", role="shift_leader", unit=bureau, user=leader)
    inspector = User.objects.create_user("inspector", password="Hongshan-Grid-2026")
    staff = Staff.objects.create(code="S002", name="巡查员", role="inspector", unit=town, user=inspector)
    cases = []
    for n in range(3):
        case = services.report(
            services.ReportInput(
                category=category,
                description=f"光明路 {n} 号成堆垃圾",
                channel="web" if n == 0 else "patrol",
                citizen=services.CitizenInfo(name="张三", phone="13912341234") if n == 0 else None,
                reporter_staff=None if n == 0 else staff,
                reporter_user=None if n == 0 else inspector,
                territory=town,
                address=f"东岭街道光明路 {n} 号",
            )
        )
        cases.append(case)
    photo = Attachment(
        case=cases[1], kind="before", token="a" * 32, extension=".jpg", content_type="image/jpeg", size=7
    )
    photo.file.save("x.jpg", ContentFile(b"jpegish"), save=False)
    photo.save()
    return {"cases": cases, "photo": photo, "category": category, "town": town, "user": inspector}


def test_round_trip_brings_back_rows_and_photos(district: dict[str, Any], place: Path) -> None:
    before = snapshot()
    pending = backup.pending_migrations()  # none, unless migrations were added since the test DB was made
    photo_path = Path(district["photo"].file.path)
    assert photo_path.read_bytes() == b"jpegish"
    target = place / "backup.tar"

    result = backup.backup(target)
    assert result.path == target and target.is_file()
    assert result.engine == connection.vendor
    assert result.counts["案件"] == 3 and result.media_files == 1

    # Life goes on: edits, new cases, deletions, a lost photo.
    Case.objects.filter(pk=district["cases"][0].pk).update(description="改过的描述", urgency="urgent")
    services.report(
        services.ReportInput(
            category=district["category"],
            description="新案件",
            channel="patrol",
            territory=district["town"],
            address="光明路 9 号",
        )
    )
    CitizenContact.objects.all().delete()
    OrgUnit.objects.create(code="NEW", name="新单位", kind="department")
    User.objects.create_user("newcomer")
    photo_path.unlink()
    assert snapshot() != before

    restored = backup.restore(target, safety_copy=True)
    assert snapshot() == before
    assert photo_path.read_bytes() == b"jpegish"
    assert restored.counts == result.counts and restored.media_files == 1
    assert restored.pending_migrations == pending
    assert restored.safety_copy is not None and restored.safety_copy.is_file()
    # The safety copy holds the state just before the restore (4 cases), and restores too.
    assert backup.read_manifest(restored.safety_copy)["counts"]["案件"] == 4
    # The restored database works normally afterwards.
    case = services.report(
        services.ReportInput(
            category=Category.objects.get(), description="恢复后", channel="patrol", address="光明路 10 号"
        )
    )
    assert case.events.count() == 1


def test_backup_file_is_self_describing(district: dict[str, Any], place: Path) -> None:
    target = backup.backup(place / "b.tar").path
    with tarfile.open(target) as archive:
        names = archive.getnames()
        manifest = json.loads(archive.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert names[0] == "manifest.json"
    assert backup.DB_MEMBERS[connection.vendor] in names
    assert any(name.startswith("media/cases/") for name in names)
    assert manifest["format"] == "chengguan-backup" and manifest["engine"] == connection.vendor
    assert ["cases", "0001_initial"] in manifest["migrations"]
    assert not list(place.glob("*.partial"))


def test_commands_show_progress_and_summary(district: dict[str, Any], place: Path) -> None:
    out = io.StringIO()
    target = place / "cmd.tar"
    call_command("backup", "--output", str(target), stdout=out)
    text = out.getvalue()
    assert "导出数据库" in text and "备份完成" in text and "案件 3" in text
    Case.objects.filter(pk=district["cases"][0].pk).update(description="变了")
    out = io.StringIO()
    call_command("restore", str(target), "--no-input", "--no-safety-copy", stdout=out)
    text = out.getvalue()
    assert "备份时间" in text and "恢复完成" in text
    assert Case.objects.get(pk=district["cases"][0].pk).description == "光明路 0 号成堆垃圾"


def test_default_path_is_under_var_backups(district: dict[str, Any], place: Path) -> None:
    result = backup.backup(include_media=False)
    assert result.path.parent == place / "var" / "backups" and result.media_files == 0


def test_restore_refuses_what_is_not_a_backup(place: Path) -> None:
    junk = place / "junk.tar"
    junk.write_bytes(b"definitely not a tar file")
    with pytest.raises(backup.BackupError, match="不是 Chengguan 备份文件"):
        backup.restore(junk)
    with pytest.raises(backup.BackupError, match="找不到备份文件"):
        backup.restore(place / "missing.tar")
    with pytest.raises(CommandError, match="不是 Chengguan 备份文件"):
        call_command("restore", str(junk), "--no-input")


def _rewrite(source: Path, target: Path, change: Any) -> None:
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
            member, data = change(member, data)
            new.addfile(member, io.BytesIO(data))


def test_restore_refuses_damaged_or_foreign_backups(district: dict[str, Any], place: Path) -> None:
    good = backup.backup(place / "good.tar").path
    before = snapshot()

    def corrupt(member: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        if member.name.startswith("database."):
            data = data[:-10] + b"0123456789"
        return member, data

    _rewrite(good, place / "bad.tar", corrupt)
    with pytest.raises(backup.BackupError, match="校验值不符"):
        backup.restore(place / "bad.tar", safety_copy=False)

    def other_engine(member: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        if member.name == "manifest.json":
            manifest = json.loads(data)
            manifest["engine"] = "postgresql" if manifest["engine"] == "sqlite" else "sqlite"
            data = json.dumps(manifest).encode()
            member.size = len(data)
        return member, data

    _rewrite(good, place / "other.tar", other_engine)
    with pytest.raises(backup.BackupError, match="不能直接恢复"):
        backup.restore(place / "other.tar", safety_copy=False)

    def newer(member: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        if member.name == "manifest.json":
            manifest = json.loads(data)
            manifest["migrations"].append(["cases", "9999_from_the_future"])
            data = json.dumps(manifest).encode()
            member.size = len(data)
        return member, data

    _rewrite(good, place / "newer.tar", newer)
    with pytest.raises(backup.BackupError, match="更新版本"):
        backup.restore(place / "newer.tar", safety_copy=False)

    def escaping(member: tarfile.TarInfo, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
        if member.name.startswith("media/"):
            member.name = "media/../../escaped.jpg"
        return member, data

    _rewrite(good, place / "escape.tar", escaping)
    with pytest.raises((backup.BackupError, tarfile.TarError)):
        backup.restore(place / "escape.tar", safety_copy=False)
    assert not (place / "escaped.jpg").exists()
    assert snapshot() == before


@pytest.mark.postgres
def test_missing_postgresql_client_is_explained(district: dict[str, Any], place: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(place / "empty-bin"))
    with pytest.raises(backup.BackupError, match="postgresql-client"):
        backup.backup(place / "x.tar")
    assert os.environ["PATH"].endswith("empty-bin")
