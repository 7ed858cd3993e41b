from __future__ import annotations

import pytest

from chengguan.org import services
from chengguan.org.tests.samples import make_domains, staff_file, units_file


@pytest.fixture
def domains(db):
    make_domains()


@pytest.fixture
def org_chart(domains):
    """The sample units stored, as a bureau has them before its next import."""
    report = services.units_import_file(units_file(), filename="units.csv")
    assert report.ok, report.errors


@pytest.fixture
def staffed(org_chart, django_user_model):
    django_user_model.objects.create_user(username="chenjing")
    report = services.staff_import_file(staff_file(), filename="staff.csv")
    assert report.ok, report.errors
