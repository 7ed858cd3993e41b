"""The roll-ups of the daily summary, as plain data shared by the refresh and the queries.

Each roll-up keeps the local day, the dimensions it names and the additive counts. A query
needs some dimensions — those it filters on and those it groups by — and is answered from
the smallest roll-up that has them all; a query no roll-up can answer (two filters at once,
a territory with a category …) reads the cases, which indexes keep fast for such narrow sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Dimension names used by queries.
CHANNEL, MODE, TERRITORY, UNIT, MAJOR, CATEGORY = "channel", "mode", "territory", "unit", "major", "category"


@dataclass(frozen=True)
class Grain:
    name: str
    columns: tuple[str, ...]  # summary columns this roll-up fills (besides day and counts)
    dims: frozenset[str]  # dimensions it can filter and group by


GRAINS: tuple[Grain, ...] = (
    Grain("district", ("channel", "disposition_mode"), frozenset({CHANNEL, MODE})),
    Grain(
        "territory", ("territory_id", "channel", "disposition_mode"), frozenset({TERRITORY, CHANNEL, MODE})
    ),
    Grain("unit", ("lead_unit_id", "channel", "disposition_mode"), frozenset({UNIT, CHANNEL, MODE})),
    Grain("major", ("kind", "major_code", "channel", "disposition_mode"), frozenset({MAJOR, CHANNEL, MODE})),
    # A major-class filter on the category roll-up becomes "category in (the class's categories)".
    Grain("category", ("category_id",), frozenset({CATEGORY, MAJOR})),
    # The usual pair of filters: a town/subdistrict and a kind of problem.
    Grain(
        "town_major",
        ("territory_id", "kind", "major_code", "channel", "disposition_mode"),
        frozenset({TERRITORY, MAJOR, CHANNEL, MODE}),
    ),
)
BY_NAME = {g.name: g for g in GRAINS}

# Every summary column a roll-up may fill, with what it is in the case table (the major
# class comes from the category row).
SOURCES: dict[str, str] = {
    "territory_id": "c.territory_id",
    "lead_unit_id": "c.lead_unit_id",
    "kind": "cat.kind",
    "major_code": "cat.major_code",
    "category_id": "c.category_id",
    "channel": "c.channel",
    "disposition_mode": "c.disposition_mode",
}
# What a column holds in roll-ups that do not keep it.
EMPTY: dict[str, str] = {
    "territory_id": "NULL",
    "lead_unit_id": "NULL",
    "kind": "''",
    "major_code": "''",
    "category_id": "NULL",
    "channel": "''",
    "disposition_mode": "''",
}


def choose(needed: Iterable[str]) -> Grain | None:
    """The smallest roll-up with every needed dimension, or None (read the cases)."""
    wanted = frozenset(needed)
    for grain in GRAINS:
        if wanted <= grain.dims:
            return grain
    return None
