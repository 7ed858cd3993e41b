"""Arguments shared by ``grid import`` and ``grid validate``: one file per level and which
attribute holds the code, name, parent and territory (for all levels or per level)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from chengguan.grid.importing import FieldMap
from chengguan.grid.services import LevelSource
from chengguan.grid.validation import Tolerances


def add_source_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--level",
        action="append",
        default=[],
        metavar="N=FILE",
        help="第 N 级网格的文件（1 管理、2 责任、3 区域、4 单元），可重复，"
        "例如 --level 1=街道.shp --level 2=社区.geojson；"
        "支持 GeoJSON、Shapefile（.shp 或 .zip）、GeoPackage",
    )
    for name, text in (
        ("code", "编码字段"),
        ("name", "名称字段"),
        ("parent", "上级字段（填上级的编码或名称；不填时按位置自动归属）"),
        ("territory", "镇街字段（填镇街的单位编码或名称）"),
    ):
        parser.add_argument(
            f"--{name}-field",
            action="append",
            default=[],
            metavar="[N=]FIELD",
            help=f"{text}；写 N=FIELD 只对第 N 级生效",
        )
    parser.add_argument(
        "--gpkg-layer", action="append", default=[], metavar="[N=]LAYER", help="GeoPackage 的图层名"
    )
    parser.add_argument("--encoding", help="Shapefile 属性表编码，例如 gbk")
    parser.add_argument(
        "--gcj02",
        action="store_true",
        help="文件坐标是 GCJ-02（火星坐标，来自国内网络地图），导入时转换为 WGS-84",
    )
    parser.add_argument("--boundary", type=Path, help="辖区边界文件，用于检查缝隙和超出辖区")
    parser.add_argument(
        "--tolerance", type=float, default=Tolerances().area_m2, help="缝隙/重叠的面积容差（平方米），默认 1"
    )


def _per_level(values: list[str], option: str) -> dict[int, str]:
    """'FIELD' applies to every level (key 0); 'N=FIELD' to level N."""
    out: dict[int, str] = {}
    for value in values:
        level, sep, name = value.partition("=")
        if sep and level.strip().isdigit():
            out[int(level)] = name.strip()
        else:
            out[0] = value.strip()
    return out


def sources_from_options(options: dict[str, Any]) -> list[LevelSource]:
    fields = {k: _per_level(options[f"{k}_field"], k) for k in ("code", "name", "parent", "territory")}
    layers = _per_level(options["gpkg_layer"], "gpkg_layer")
    sources = []
    for spec in options["level"]:
        level_text, sep, path = spec.partition("=")
        if not sep or not level_text.strip().isdigit() or not path:
            raise CommandError(
                f"--level 的写法应为 N=文件，例如 --level 4=单元网格.geojson，而不是「{spec}」。"
            )
        level = int(level_text)
        if level not in (1, 2, 3, 4):
            raise CommandError(f"网格层级应为 1–4，而不是 {level}。")

        def pick(kind: str, level: int = level) -> str | None:
            return fields[kind].get(level, fields[kind].get(0)) or None

        sources.append(
            LevelSource(
                level,
                Path(path),
                FieldMap(
                    code=pick("code"), name=pick("name"), parent=pick("parent"), territory=pick("territory")
                ),
                layer=layers.get(level, layers.get(0)),
                encoding=options["encoding"],
            )
        )
    return sources


def tolerances_from_options(options: dict[str, Any]) -> Tolerances:
    if options["tolerance"] <= 0:
        raise CommandError("--tolerance 必须是正数（平方米）。")
    return Tolerances(area_m2=options["tolerance"])
