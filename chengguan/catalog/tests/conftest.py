from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chengguan.catalog.services import LoadReport, catalog_load
from chengguan.catalog.shipped import DATA_DIR


@pytest.fixture
def loaded(db: None) -> LoadReport:
    """The whole shipped catalogue loaded into the test database."""
    return catalog_load()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped data directory, for release and breakage scenarios."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target
