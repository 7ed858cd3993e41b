"""``chengguan grid locate LON LAT``: which grid cells a point is in."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.grid.gcj02 import gcj02_to_wgs84
from chengguan.grid.selectors import locate
from chengguan.grid.validation import LEVEL_NAMES
from chengguan.org.models import OrgUnit


class Command(BaseCommand):
    help = "查询一个经纬度所在的四级网格和镇街"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("lon", type=float, help="经度")
        parser.add_argument("lat", type=float, help="纬度")
        parser.add_argument("--gcj02", action="store_true", help="输入是 GCJ-02 坐标（国内网络地图）")

    def handle(self, *args: Any, **options: Any) -> None:
        lon, lat = options["lon"], options["lat"]
        if options["gcj02"]:
            wlon, wlat = gcj02_to_wgs84(lon, lat)
            lon, lat = float(wlon), float(wlat)
        location = locate(lon, lat)
        if location is None:
            raise CommandError("当前没有在用的网格。")
        if not location.found:
            raise CommandError(location.message)
        for level in (1, 2, 3, 4):
            cell = location.at(level)
            if cell is not None:
                self.stdout.write(f"{LEVEL_NAMES[level]}：{cell.name}（{cell.code}）")
        if location.territory_id is not None:
            territory = OrgUnit.objects.filter(pk=location.territory_id).first()
            self.stdout.write(f"所属镇街：{territory.name if territory else location.territory_id}")
