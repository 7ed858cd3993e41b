"""The committed OpenAPI document is exactly what drf-spectacular generates from the code."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.utils import translation

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi.yaml"


def test_committed_openapi_matches_the_code(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"
    errors = StringIO()
    with translation.override("zh-hans"):  # choice labels appear in the document
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated), stderr=errors)
    assert generated.read_text(encoding="utf-8") == DOCUMENT.read_text(encoding="utf-8"), (
        "docs/openapi.yaml is stale: regenerate it with "
        "`.venv/bin/chengguan spectacular --validate --file docs/openapi.yaml` and commit it"
    )


def test_document_covers_only_the_rest_api() -> None:
    text = DOCUMENT.read_text(encoding="utf-8")
    paths = [line.strip() for line in text.splitlines() if line.startswith("  /")]
    assert paths and all(p.startswith("/api/v1/") for p in paths)
    assert "ApiKeyAuth" in text and "X-Api-Key" in text
