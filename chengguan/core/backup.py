"""Backups of a whole installation: the database and the uploaded files, in one tar file.

``manifest.json``
    what the file is: format version, database engine, time, the applied migrations, the
    SHA-256 of the database part, counts for the summary.
``database.sqlite3``
    SQLite: a consistent copy taken online with SQLite's backup API (the web app and the
    worker may keep writing meanwhile).
``database.pgdump``
    PostgreSQL: ``pg_dump -Fc`` (a consistent snapshot); restored with
    ``pg_restore --clean --if-exists --single-transaction``.
``media/…``
    the case photos and other uploads under ``MEDIA_ROOT`` (unless ``--no-media``).

Restoring replaces the database with the one in the file and puts the files back under
``MEDIA_ROOT``. By default the current database is saved first to ``var/backups/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from chengguan.core.progress import Progress

FORMAT = "chengguan-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# What the summary counts (label, app label, model name); missing models are skipped.
COUNTED = [
    ("案件", "cases", "Case"),
    ("流转记录", "cases", "CaseEvent"),
    ("照片/附件", "cases", "Attachment"),
    ("单位", "org", "OrgUnit"),
    ("人员", "org", "Staff"),
    ("登录账号", "auth", "User"),
]


class BackupError(Exception):
    """A backup or restore that cannot be done, with a message for the operator."""


@dataclass
class BackupResult:
    path: Path
    engine: str
    database_bytes: int
    media_files: int
    media_bytes: int
    counts: dict[str, int]
    seconds: float

    def lines(self) -> list[str]:
        counts = "，".join(f"{label} {n}" for label, n in self.counts.items())
        return [
            f"备份文件：{self.path}（{self.path.stat().st_size / 1024 / 1024:.1f} MB）",
            f"数据库：{ENGINE_NAMES.get(self.engine, self.engine)}，"
            f"{self.database_bytes / 1024 / 1024:.1f} MB；{counts}",
            f"上传文件：{self.media_files} 个，{self.media_bytes / 1024 / 1024:.1f} MB",
            f"用时 {self.seconds:.1f} 秒",
        ]


@dataclass
class RestoreResult:
    path: Path
    engine: str
    created_at: str
    media_files: int
    counts: dict[str, int]
    safety_copy: Path | None
    pending_migrations: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        counts = "，".join(f"{label} {n}" for label, n in self.counts.items())
        lines = [
            f"已从 {self.path} 恢复（备份时间 {_when(self.created_at)}）",
            f"数据库：{ENGINE_NAMES.get(self.engine, self.engine)}；{counts}",
            f"上传文件：恢复 {self.media_files} 个",
        ]
        if self.safety_copy:
            lines.append(f"恢复前的数据库已另存为：{self.safety_copy}")
        if self.pending_migrations:
            lines.append(
                f"备份来自较早的版本，还有 {len(self.pending_migrations)} 个数据库迁移未执行："
                "请运行 chengguan migrate"
            )
        return lines


def _when(iso: str) -> str:
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")
    return iso


def default_path(prefix: str = "chengguan") -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.VAR_DIR) / "backups" / f"{prefix}-{stamp}.tar"


def _engine(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in DB_MEMBERS:
        raise BackupError(f"不支持备份 {vendor} 数据库：只支持 SQLite 和 PostgreSQL。")
    return vendor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _counts(alias: str) -> dict[str, int]:
    counts = {}
    for label, app_label, model_name in COUNTED:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            continue
        try:
            with transaction.atomic(using=alias):
                counts[label] = model._default_manager.using(alias).count()
        except DatabaseError:  # not migrated yet
            continue
    return counts


def _applied_migrations(alias: str) -> list[list[str]]:
    recorder = MigrationRecorder(connections[alias])
    return sorted([app, name] for app, name in recorder.applied_migrations())


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _media_files() -> Iterator[Path]:
    root = _media_root()
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


# --- PostgreSQL client tools -------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"找不到 PostgreSQL 客户端程序 {name}：请安装与服务器同一大版本或更新的 PostgreSQL 客户端"
            f"（Debian/Ubuntu：apt-get install postgresql-client），并确认它在 PATH 中。"
        )
    return found


def _pg_env(alias: str) -> dict[str, str]:
    """libpq environment for the connection (the password never appears on a command line)."""
    params = connections[alias].get_connection_params()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    mapping = {
        "host": "PGHOST",
        "port": "PGPORT",
        "user": "PGUSER",
        "password": "PGPASSWORD",
        "dbname": "PGDATABASE",
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "sslcert": "PGSSLCERT",
        "sslkey": "PGSSLKEY",
        "service": "PGSERVICE",
        "passfile": "PGPASSFILE",
    }
    for key, variable in mapping.items():
        value = params.get(key)
        if value not in (None, ""):
            env[variable] = str(value)
    if "PGDATABASE" not in env:
        env["PGDATABASE"] = str(connections[alias].settings_dict["NAME"])
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{what}失败（{Path(command[0]).name} 退出码 {result.returncode}）：{' '.join(detail[-5:])}"
        )


# --- backup ------------------------------------------------------------------------------------


def _sqlite_copy(alias: str, target: Path, progress: Progress) -> None:
    connection = connections[alias]
    connection.ensure_connection()
    source = connection.connection
    assert isinstance(source, sqlite3.Connection)
    destination = sqlite3.connect(target)
    try:
        reported = [-1]

        def step(status: int, remaining: int, total: int) -> None:
            done = int(100 * (total - remaining) / total) if total else 100
            if done // 25 > reported[0]:
                reported[0] = done // 25
                progress.step(f"复制数据库 {done}%")

        # The backup API copies a consistent snapshot page by page while others keep writing.
        source.backup(destination, pages=4096, progress=step)
        # One self-contained file: no write-ahead log beside it.
        destination.execute("PRAGMA journal_mode=DELETE")
        check = destination.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"数据库副本未通过完整性检查：{check}")
    finally:
        destination.close()


def _pg_dump(alias: str, target: Path) -> None:
    command = [_pg_tool("pg_dump"), "--format=custom", "--no-password", f"--file={target}"]
    _run(command, _pg_env(alias), "pg_dump 导出数据库")


def backup(
    output: Path | None = None,
    *,
    include_media: bool = True,
    progress: Progress | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> BackupResult:
    """Write a backup of the database (and uploads) to ``output`` (default: var/backups/…tar)."""
    progress = progress or Progress()
    started = timezone.now()
    engine = _engine(using)
    output = Path(output) if output else default_path()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=output.parent) as work:
        database = Path(work) / DB_MEMBERS[engine]
        with progress.stage(f"导出数据库（{ENGINE_NAMES[engine]}）"):
            if engine == "sqlite":
                _sqlite_copy(using, database, progress)
            else:
                _pg_dump(using, database)
        counts = _counts(using)
        media = list(_media_files()) if include_media else []
        database_bytes = database.stat().st_size
        media_bytes = sum(p.stat().st_size for p in media)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "engine": engine,
            "created_at": timezone.localtime(started).isoformat(timespec="seconds"),
            "django": django.get_version(),
            "database": {
                "member": DB_MEMBERS[engine],
                "sha256": _sha256(database),
                "bytes": database_bytes,
            },
            "migrations": _applied_migrations(using),
            "counts": counts,
            "media": {
                "included": include_media,
                "files": len(media),
                "bytes": media_bytes,
            },
        }
        partial = output.with_name(output.name + ".partial")
        with progress.stage("写入备份文件"):
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime = len(data), int(started.timestamp())
                archive.addfile(info, io.BytesIO(data))
                archive.add(database, arcname=DB_MEMBERS[engine])
                root = _media_root()
                for n, path in enumerate(media, start=1):
                    archive.add(path, arcname=f"media/{path.relative_to(root).as_posix()}")
                    if n % 500 == 0:
                        progress.step(f"已打包上传文件 {n}/{len(media)}")
            partial.replace(output)  # never a half-written file under the final name
    seconds = (timezone.now() - started).total_seconds()
    return BackupResult(output, engine, database_bytes, len(media), media_bytes, counts, seconds)


# --- restore -----------------------------------------------------------------------------------


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a backup file, or :class:`BackupError` if it is not one of ours."""
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}")
    try:
        with tarfile.open(path, "r") as archive:
            member = archive.getmember(MANIFEST)
            handle = archive.extractfile(member)
            manifest = json.loads(handle.read().decode("utf-8")) if handle else {}
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{path} 不是 Chengguan 备份文件（{exc}）。") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path} 不是 Chengguan 备份文件。")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise BackupError("备份文件来自更新版本的 Chengguan，请先升级本系统再恢复。")
    return manifest


def _unknown_migrations(manifest: dict[str, Any], alias: str) -> list[str]:
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True, load=True)
    known = set(loader.disk_migrations)
    return [f"{app}.{name}" for app, name in manifest.get("migrations", []) if (app, name) not in known]


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    loader = MigrationLoader(connections[alias], ignore_no_migrations=True)
    applied = set(MigrationRecorder(connections[alias]).applied_migrations())
    return sorted(f"{app}.{name}" for app, name in loader.disk_migrations if (app, name) not in applied)


@contextlib.contextmanager
def _extracted(path: Path, manifest: dict[str, Any]) -> Iterator[tuple[Path, Path | None]]:
    """The database part (checked against its SHA-256) and the media folder, in a temporary place."""
    with tempfile.TemporaryDirectory(prefix=".restore-") as work, tarfile.open(path, "r") as archive:
        member = manifest["database"]["member"]
        if member not in DB_MEMBERS.values():
            raise BackupError("备份文件的清单有误：数据库部分的名称不对。")
        media_members = [m for m in archive.getmembers() if m.name.startswith("media/")]
        # The "data" filter refuses absolute names, "..", links out of the folder and devices.
        archive.extractall(work, members=[archive.getmember(member), *media_members], filter="data")
        database = Path(work) / member
        if _sha256(database) != manifest["database"]["sha256"]:
            raise BackupError("备份文件已损坏：数据库部分的校验值不符。")
        media = Path(work) / "media"
        yield database, media if media.is_dir() else None


def _sqlite_restore(alias: str, database: Path) -> None:
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"备份中的数据库未通过完整性检查：{check}")
        connection = connections[alias]
        connection.close()
        connection.ensure_connection()
        target = connection.connection
        assert isinstance(target, sqlite3.Connection)
        # Page by page into the live database, under its write lock: readers see old or new.
        source.backup(target)
    finally:
        source.close()
    connections[alias].close()


def _pg_restore(alias: str, database: Path) -> None:
    command = [
        _pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        f"--dbname={_pg_env(alias)['PGDATABASE']}",
        str(database),
    ]
    connections[alias].close()  # our own session must not hold locks on the tables being replaced
    _run(command, _pg_env(alias), "pg_restore 恢复数据库")


def _restore_media(media: Path | None, progress: Progress) -> int:
    if media is None:
        return 0
    root = _media_root()
    count = 0
    for source in sorted(media.rglob("*")):
        if source.is_file() and not source.is_symlink():
            target = root / source.relative_to(media)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            count += 1
            if count % 500 == 0:
                progress.step(f"已恢复上传文件 {count} 个")
    return count


def restore(
    path: Path,
    *,
    include_media: bool = True,
    safety_copy: bool = True,
    force: bool = False,
    progress: Progress | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> RestoreResult:
    """Replace the database (and put back the uploads) from the backup file at ``path``."""
    progress = progress or Progress()
    path = Path(path)
    manifest = read_manifest(path)
    engine = _engine(using)
    if manifest.get("engine") != engine:
        raise BackupError(
            f"备份是 {ENGINE_NAMES.get(manifest.get('engine', ''), manifest.get('engine'))} 数据库的，"
            f"当前数据库是 {ENGINE_NAMES[engine]}：不能直接恢复。"
            "跨数据库迁移请用 chengguan dumpdata / loaddata。"
        )
    unknown = _unknown_migrations(manifest, using)
    if unknown and not force:
        raise BackupError(
            f"备份来自更新版本的 Chengguan（本系统不认识 {len(unknown)} 个迁移，如 {unknown[0]}）："
            "请先升级本系统再恢复，或确认后加 --force。"
        )
    saved: Path | None = None
    if safety_copy:
        with progress.stage("先把当前数据库另存一份"):
            saved = backup(
                default_path("before-restore"), include_media=False, progress=progress, using=using
            ).path
    with _extracted(path, manifest) as (database, media):
        with progress.stage(f"恢复数据库（{ENGINE_NAMES[engine]}）"):
            if engine == "sqlite":
                _sqlite_restore(using, database)
            else:
                _pg_restore(using, database)
        ContentType.objects.clear_cache()  # ids may differ in the restored database
        media_count = 0
        if include_media:
            with progress.stage("恢复上传文件"):
                media_count = _restore_media(media, progress)
    return RestoreResult(
        path=path,
        engine=engine,
        created_at=str(manifest.get("created_at", "")),
        media_files=media_count,
        counts=_counts(using),
        safety_copy=saved,
        pending_migrations=pending_migrations(using),
    )


def describe(path: Path) -> list[str]:
    """Lines telling what a backup file holds (for the confirmation before a restore)."""
    manifest = read_manifest(path)
    counts = "，".join(f"{label} {n}" for label, n in manifest.get("counts", {}).items())
    media = manifest.get("media", {})
    return [
        f"备份时间：{_when(str(manifest.get('created_at', '')))}",
        f"数据库：{ENGINE_NAMES.get(manifest.get('engine', ''), manifest.get('engine'))}；{counts}",
        f"上传文件：{media.get('files', 0) if media.get('included') else '未包含'}",
    ]
