"""``chengguan grid components FILE``: import the component inventory (部件普查) from points."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.grid.components import ComponentFields
from chengguan.grid.readers import GridFileError
from chengguan.grid.services import GridServiceError, import_components


class Command(BaseCommand):
    help = "从点文件（GeoJSON/Shapefile/GeoPackage）导入部件普查数据，按部件标识码新增或更新"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="部件点文件")
        parser.add_argument("--category-field", required=True, help="5 位部件类别码字段")
        parser.add_argument("--code-field", help="17 位部件标识码字段；不填时按类别自动编号")
        parser.add_argument("--name-field", help="名称字段")
        parser.add_argument("--state-field", help="状态字段（完好、破损、丢失、废弃、移除）；不填时为完好")
        parser.add_argument("--owner-field", help="权属单位字段（单位编码或名称）")
        parser.add_argument("--maintainer-field", help="养护单位字段（单位编码或名称）")
        parser.add_argument("--address-field", help="位置描述字段")
        parser.add_argument("--gpkg-layer", help="GeoPackage 图层名")
        parser.add_argument("--encoding", help="Shapefile 属性表编码，例如 gbk")
        parser.add_argument("--gcj02", action="store_true", help="坐标是 GCJ-02（火星坐标），转换为 WGS-84")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        fields = ComponentFields(
            category=options["category_field"],
            code=options["code_field"],
            name=options["name_field"],
            state=options["state_field"],
            owner=options["owner_field"],
            maintainer=options["maintainer_field"],
            address=options["address_field"],
        )
        try:
            outcome = import_components(
                options["file"],
                fields,
                gcj02=options["gcj02"],
                layer_name=options["gpkg_layer"],
                encoding=options["encoding"],
                dry_run=options["dry_run"],
            )
        except (GridFileError, GridServiceError) as exc:
            raise CommandError(f"{exc}\n数据库未做任何修改。") from exc
        for note in outcome.notes:
            self.stdout.write(f"说明：{note}")
        if not outcome.ok:
            for error in outcome.errors[:200]:
                self.stderr.write(f"  {error}")
            raise CommandError(outcome.summary())
        self.stdout.write(("试运行：校验通过。" if options["dry_run"] else "") + outcome.summary())
