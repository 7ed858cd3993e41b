"""The precedence of routing rules, without a database."""

from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.routing.routing import Place, Precedence, Rule, RuleIndex, gaps, route

DEFAULT = Rule(id=1, category_id=10, lead_unit_id=100)
TOWN = Rule(id=2, category_id=10, lead_unit_id=200, territory_id=7)
GRID = Rule(id=3, category_id=10, lead_unit_id=300, grid_code="150402001001001")
OTHER = Rule(id=4, category_id=11, lead_unit_id=400, territory_id=7)


def test_grid_beats_territory_beats_default() -> None:
    rules = [DEFAULT, TOWN, GRID, OTHER]
    in_grid = route(rules, 10, Place(territory_id=7, grid_codes=("150402001001001", "150402001001")))
    assert in_grid is not None and in_grid.lead_unit_id == 300 and "网格" in in_grid.reason
    in_town = route(rules, 10, Place(territory_id=7, grid_codes=("150402001001002",)))
    assert in_town is not None and in_town.lead_unit_id == 200 and in_town.reason == "所属镇街的规则"
    elsewhere = route(rules, 10, Place(territory_id=8))
    assert elsewhere is not None and elsewhere.lead_unit_id == 100 and elsewhere.reason == "全区默认规则"


def test_no_rule_is_no_route() -> None:
    assert route([OTHER], 11, Place(territory_id=8)) is None
    assert route([OTHER], 99, Place(territory_id=7)) is None


def test_finer_grid_level_wins() -> None:
    coarse = Rule(id=5, category_id=10, lead_unit_id=500, grid_code="C")
    fine = Rule(id=6, category_id=10, lead_unit_id=600, grid_code="F")
    found = route([coarse, fine], 10, Place(grid_codes=("F", "C")))
    assert found is not None and found.lead_unit_id == 600


def test_gaps_lists_uncovered_pairs_only() -> None:
    index = RuleIndex([DEFAULT, OTHER])
    assert gaps(index, [10, 11], [7, 8]) == [(11, 8)]


rules_strategy = st.lists(
    st.builds(
        Rule,
        id=st.integers(1, 10_000),
        category_id=st.integers(1, 3),
        lead_unit_id=st.integers(1, 50),
        territory_id=st.none() | st.integers(1, 3),
        grid_code=st.sampled_from(["", "", "G1", "G2"]),
    ),
    max_size=25,
    unique_by=lambda rule: rule.id,  # ids are primary keys
)


@settings(deadline=None)
@given(
    rules_strategy,
    st.integers(1, 3),
    st.none() | st.integers(1, 3),
    st.lists(st.sampled_from(["G1", "G2"]), max_size=2, unique=True),
    st.randoms(),
)
def test_answer_is_the_most_specific_and_independent_of_order(rules, category, territory, grids, rnd) -> None:
    place = Place(territory_id=territory, grid_codes=tuple(grids))
    found = route(rules, category, place)
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    again = route(shuffled, category, place)
    assert (found is None) == (again is None)
    if found is None:
        return
    assert again is not None and again.rule == found.rule
    assert found.rule.category_id == category

    # No applicable rule is more specific than the one chosen.
    def applies(rule: Rule) -> bool:
        if rule.category_id != category:
            return False
        if rule.grid_code:
            return rule.grid_code in grids
        if rule.territory_id is not None:
            return rule.territory_id == territory
        return True

    assert applies(found.rule)
    assert all(r.precedence <= found.rule.precedence for r in rules if applies(r))
    if found.rule.precedence is Precedence.GRID:
        # among grid rules, the first listed grid code (the finest level) wins
        first = next(code for code in grids if any(applies(r) and r.grid_code == code for r in rules))
        assert found.rule.grid_code == first
