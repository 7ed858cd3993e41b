from __future__ import annotations

import io

import pytest

from chengguan.core.progress import Progress
from chengguan.grid import selectors
from chengguan.grid.demo import build_demo_grid
from chengguan.grid.generator import GeneratorParams
from chengguan.grid.models import GridCell, GridLayer, LayerStatus
from chengguan.org.models import OrgUnit, UnitKind

pytestmark = pytest.mark.django_db

# The real 红山区 boundary with 1 km cells: the demo's code path, a hundredth of its size.
FAST = GeneratorParams(unit_size_m=1000, area_block=2, resp_block=2)


@pytest.fixture
def territories():
    return [
        OrgUnit.objects.create(code=f"150402{n:03d}", name=name, kind=UnitKind.SUBDISTRICT)
        for n, name in [(3, "西屯街道"), (1, "哈达街道"), (2, "永巨街道")]
    ]


def test_demo_grid_is_built_once(territories):
    out = io.StringIO()
    first = build_demo_grid(Progress(out), territories, params=FAST)
    assert first["created"] and first["errors"] == 0
    assert first["cells"][1] == 3 and first["unit_cells"] > 400
    layer = GridLayer.objects.get(status=LayerStatus.ACTIVE)
    assert layer.pk == first["layer_id"] and layer.lattice
    # Management grids carry the territories' own statistical codes and ids.
    management = dict(GridCell.objects.filter(layer=layer, level=1).values_list("code", "territory__name"))
    assert management == {"150402001": "哈达街道", "150402002": "永巨街道", "150402003": "西屯街道"}
    assert not GridCell.objects.filter(layer=layer, territory__isnull=True).exists()
    assert "单元" in out.getvalue()

    snapshot = list(GridCell.objects.order_by("pk").values_list("pk", "code"))
    second = build_demo_grid(Progress(io.StringIO()), list(reversed(territories)), params=FAST)
    assert not second["created"] and second["layer_id"] == first["layer_id"]
    assert list(GridCell.objects.order_by("pk").values_list("pk", "code")) == snapshot
    assert GridLayer.objects.count() == 1

    location = selectors.locate(118.96, 42.27)  # central 红山区
    assert location.found and location.unit is not None
    assert location.territory_id in {t.pk for t in territories}


def test_demo_without_territories_is_one_management_grid():
    summary = build_demo_grid(Progress(io.StringIO()), [], params=FAST)
    assert summary["cells"][1] == 1
    assert GridCell.objects.get(level=1).code == "150402001"
