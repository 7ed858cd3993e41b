"""The browsable documentation works under the site's content security policy."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.staticfiles import finders
from django.test import Client


def test_swagger_ui_uses_only_our_own_scripts_and_styles(client: Client, db: Any) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/' in attrs for attrs in scripts)  # no inline script, no CDN
    assert "<style" not in html and "cdn." not in html
    for url in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        assert finders.find(url.removeprefix("/static/")), url
    assert "script-src 'self'" in page["Content-Security-Policy"]
    setup = client.get("/api/docs/?script=")
    assert setup.status_code == 200 and setup["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in setup.content.decode()
