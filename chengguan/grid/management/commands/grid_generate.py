"""``chengguan grid generate --boundary FILE``: a valid four-level grid over any district."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from chengguan.core.progress import Progress
from chengguan.grid.generator import GeneratorError, GeneratorParams, TerritoryInput, generate_grid
from chengguan.grid.readers import GridFileError, read_boundary, read_features
from chengguan.grid.services import GridServiceError, save_generated, territory_lookup
from chengguan.grid.validation import validate


class Command(BaseCommand):
    help = "按万米单元网格法为辖区生成四级网格（管理、责任、区域、单元），沿镇街边界切分"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--boundary", type=Path, required=True, help="辖区边界文件（GeoJSON/Shapefile/GeoPackage）"
        )
        parser.add_argument(
            "--gcj02", action="store_true", help="文件坐标是 GCJ-02（火星坐标），先转换为 WGS-84"
        )
        parser.add_argument("--territories", type=Path, help="镇街边界文件：每个镇街一个面；网格沿其边界切分")
        parser.add_argument(
            "--territory-code-field", help="镇街文件中的编码字段（9 位以上统计编码时取第 7–9 位作街道码）"
        )
        parser.add_argument("--territory-name-field", help="镇街文件中的名称字段")
        parser.add_argument(
            "--split", type=int, default=1, help="没有镇街边界时把辖区自动划为几个片区（默认 1）"
        )
        parser.add_argument(
            "--county", default=settings.CHENGGUAN_DISTRICT_CODE, help="6 位区县代码（GB/T 2260）"
        )
        parser.add_argument(
            "--unit-size", type=float, default=100.0, help="单元网格边长（米），默认 100，即约 1 万平方米"
        )
        parser.add_argument("--name", default="自动生成网格", help="网格版本名称")
        parser.add_argument("--no-activate", action="store_true", help="只保存为待启用版本")
        parser.add_argument("--dry-run", action="store_true", help="只生成和校验，不写入数据库")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = Progress(cast(TextIO, self.stdout))
        if not 10 <= options["unit_size"] <= 1000:
            raise CommandError("--unit-size 应在 10 到 1000 米之间。")
        try:
            boundary = read_boundary(options["boundary"], gcj02=options["gcj02"])
            territories = self._territories(options)
            grid = generate_grid(
                boundary,
                territories,
                county_code=options["county"],
                params=GeneratorParams(unit_size_m=options["unit_size"]),
                step=progress.step,
            )
        except (GridFileError, GeneratorError) as exc:
            raise CommandError(f"{exc}\n数据库未做任何修改。") from exc
        for note in grid.notes:
            self.stdout.write(f"说明：{note}")
        with progress.stage("校验生成的网格"):
            report = validate(grid.validation_inputs(), boundary=boundary)
        self.stdout.write(report.format_text(10))
        if options["dry_run"]:
            self.stdout.write("试运行：未写入数据库。")
            return
        lookup = territory_lookup()
        ids = {t.key: lookup.get(str(t.key)) or lookup.get(t.name) for t in territories}
        try:
            with progress.stage("写入数据库"):
                outcome = save_generated(
                    grid,
                    report,
                    name=options["name"],
                    territory_ids=ids,
                    activate=not options["no_activate"],
                    progress=progress,
                )
        except GridServiceError as exc:
            raise CommandError(str(exc)) from exc
        n = {level: grid.count(level) for level in (1, 2, 3, 4)}
        self.stdout.write(
            f"生成 管理网格 {n[1]} 个、责任网格 {n[2]} 个、区域网格 {n[3]:,} 个、单元网格 {n[4]:,} 个。"
        )
        self.stdout.write(outcome.message())

    def _territories(self, options: dict[str, Any]) -> list[TerritoryInput]:
        if options["territories"] is None:
            if options["split"] < 1:
                raise CommandError("--split 至少为 1。")
            return [
                TerritoryInput(f"片区{i}", f"{i:03d}", f"第{i}片区") for i in range(1, options["split"] + 1)
            ]
        fs = read_features(options["territories"], gcj02=options["gcj02"])
        code_field, name_field = options["territory_code_field"], options["territory_name_field"]
        for field in (code_field, name_field):
            if field and field not in fs.fields:
                raise CommandError(f"镇街文件中没有字段「{field}」。文件中的字段有：{'、'.join(fs.fields)}。")
        out = []
        for i, feature in enumerate(fs.features, start=1):
            code = str(feature.properties.get(code_field) or "").strip() if code_field else ""
            name = str(feature.properties.get(name_field) or "").strip() if name_field else ""
            code3 = code[6:9] if code.isdigit() and len(code) >= 9 else f"{i:03d}"
            out.append(
                TerritoryInput(code or name or str(i), code3, name or code or f"第{i}片区", feature.geometry)
            )
        if len({t.code3 for t in out}) != len(out):
            for i, t in enumerate(out, start=1):
                t.code3 = f"{i:03d}"
        return out
