"""Shared set-up of the security tests, and the access matrix's count in the summary."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def fresh_process_caches(settings: Any, tmp_path: Any) -> None:
    """API keys and the Open311 catalogue are remembered per process; a rolled-back test must
    not leave its rows there for the next one. Uploads go to a temporary directory."""
    from chengguan.api.auth import forget_keys
    from chengguan.api.queries import forget_catalogue

    forget_keys()
    forget_catalogue()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHENGGUAN_MAP_TILES = ""


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from chengguan.security.tests import test_access_matrix as matrix

    if matrix.COUNTS["pairs"]:
        terminalreporter.write_line(
            f"access matrix: {matrix.COUNTS['pairs']} role × endpoint pairs checked "
            f"({matrix.COUNTS['requests']} requests)"
        )
