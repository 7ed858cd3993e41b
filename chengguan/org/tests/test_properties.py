"""Invariants of the import against a real database."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from chengguan.core.tabular import write_table
from chengguan.org import selectors, services
from chengguan.org.models import OrgUnit
from chengguan.org.rules import UNIT_COLUMNS
from chengguan.org.tests.test_rules import forests


def _table(edges: list[tuple[str, str | None]], fmt: str) -> bytes:
    rows = [
        [code, f"单位{code}", "", "部门", parent or "", "", "", "否", "否", "", "", "是"]
        for code, parent in edges
    ]
    return write_table(UNIT_COLUMNS, rows, fmt)


@pytest.mark.django_db
@settings(max_examples=15, deadline=None)
@given(forests(), st.sampled_from(["csv", "xlsx"]))
def test_any_row_order_imports_the_same_tree_and_exports_it_back(edges, fmt):
    # Each example runs in its own rolled-back transaction, so examples cannot see each other.
    with transaction.atomic():
        report = services.units_import_file(_table(edges, fmt), filename=f"units.{fmt}")

        assert report.ok, report.errors
        stored = dict(OrgUnit.objects.values_list("code", "parent__code"))
        assert stored == dict(edges)
        # Exporting and importing again changes nothing, whatever the original order was.
        again = services.units_import_file(selectors.units_table(fmt), filename=f"export.{fmt}")
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(edges))
        transaction.set_rollback(True)
