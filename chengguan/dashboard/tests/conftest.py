"""A simulated demo district shared by the tests of one module, removed after it.

The demo district (catalogue, units, staff, routing) with its grid generated over the real
红山区 boundary at 1 km (the demo's code path at a hundredth of its size), then a few thousand
simulated cases ending at a fixed moment, so every figure is reproducible.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

SH = ZoneInfo("Asia/Shanghai")
END = dt.datetime(2026, 6, 30, 16, 30, tzinfo=SH)
SEED = 20261125
CASES = 4000


@dataclass(frozen=True)
class District:
    end: dt.datetime
    seed: int
    cases: int


def build_district(
    cases: int = CASES, seed: int = SEED, end: dt.datetime = END, years: float = 2.0
) -> District:
    from chengguan.core.progress import Progress
    from chengguan.dashboard.services import simulate
    from chengguan.demo import builder, district
    from chengguan.grid.demo import build_demo_grid
    from chengguan.grid.generator import GeneratorParams
    from chengguan.org.models import OrgUnit

    quiet = Progress(io.StringIO())
    builder.build(quiet, with_grid=False)
    territories = list(
        OrgUnit.objects.filter(code__in=[district.territory_code(s) for s, _n, _k in district.TERRITORIES])
    )
    build_demo_grid(quiet, territories, params=GeneratorParams(unit_size_m=1000, area_block=2, resp_block=2))
    result = simulate(cases=cases, years=years, seed=seed, end=end, progress=quiet)
    assert result.created
    return District(end, seed, cases)


@pytest.fixture(scope="module")
def sim_district(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[District]:
    """Built once per module outside the per-test transactions; the database is emptied after."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        built = build_district()
    try:
        yield built
    finally:
        with django_db_blocker.unblock():  # type: ignore[attr-defined]
            call_command("flush", interactive=False, verbosity=0)
