from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chengguan.cli import _command_name
from chengguan.grid.models import GridCell, GridLayer, LayerStatus
from chengguan.grid.tests.conftest import metres_box, metres_polygon, streets, two_by_two, write_geojson

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_cli_groups_map_to_commands():
    assert _command_name(["grid", "generate", "--split", "2"]) == ["grid_generate", "--split", "2"]
    assert _command_name(["grid", "validate"]) == ["grid_validate"]


def test_generate_validate_locate_layers(tmp_path):
    boundary = write_geojson(
        tmp_path / "b.geojson", [(metres_polygon([(0, 0), (900, 0), (800, 700), (0, 600)]), {"n": 1})]
    )
    out = run("grid_generate", "--boundary", str(boundary), "--split", "2", "--name", "试验区")
    assert "校验通过" in out and "已启用" in out
    layer = GridLayer.objects.get(status=LayerStatus.ACTIVE)
    assert layer.name == "试验区" and GridCell.objects.filter(layer=layer, level=1).count() == 2
    assert "校验通过" in run("grid_validate")
    cell = GridCell.objects.filter(layer=layer, level=4).order_by("code").first()
    located = run("grid_locate", str(cell.label_lon), str(cell.label_lat))
    assert f"单元网格：{cell.name}（{cell.code}）" in located
    with pytest.raises(CommandError, match="超出辖区"):
        run("grid_locate", "100", "30")
    assert f"#{layer.pk}" in run("grid_layers")


def test_generate_refuses_bad_boundary(tmp_path):
    missing = tmp_path / "nope.geojson"
    with pytest.raises(CommandError, match=r"(?s)找不到文件.*数据库未做任何修改"):
        run("grid_generate", "--boundary", str(missing))
    assert not GridLayer.objects.exists()


def test_import_with_errors_then_accept(tmp_path):
    s = write_geojson(tmp_path / "s.geojson", streets())
    broken = two_by_two()
    broken[0] = (metres_box(0, 0, 210, 200), broken[0][1])  # 10 m into the east subdistrict's community
    c = write_geojson(tmp_path / "c.geojson", broken)
    args = [
        "grid_import",
        "--level",
        f"1={s}",
        "--level",
        f"2={c}",
        "--code-field",
        "code",
        "--name-field",
        "name",
    ]
    out = run(*args, "--parent-field", "2=street", "--name", "有重叠")
    assert "【重叠】1 处（错误）" in out and "社区00" in out and "未启用" in out
    layer = GridLayer.objects.get()
    assert layer.status == LayerStatus.DRAFT
    with pytest.raises(CommandError, match="不能直接启用"):
        run("grid_activate", str(layer.pk))
    with pytest.raises(CommandError, match="校验发现"):
        run("grid_validate", "--layer", str(layer.pk))
    assert "已接受" in run("grid_activate", str(layer.pk), "--accept-report")
    layer.refresh_from_db()
    assert layer.status == LayerStatus.ACTIVE and layer.report_accepted


def test_import_bad_arguments_and_files(tmp_path):
    with pytest.raises(CommandError, match="N=文件"):
        run("grid_import", "--level", "streets.geojson")
    broken = tmp_path / "x.geojson"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match="数据库未做任何修改"):
        run("grid_import", "--level", f"1={broken}")
    with pytest.raises(CommandError, match="没有在用的网格"):
        run("grid_validate")
    assert not GridLayer.objects.exists()
