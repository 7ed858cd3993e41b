"""Security settings built from the environment (imported by ``chengguan/settings.py``).

Nothing here imports Django models: the settings module loads this before apps are ready.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from csp.constants import NONE, SELF, UNSAFE_HASHES

# The only inline code our pages run, allowed by hash (CSP level 3 'unsafe-hashes') instead of
# 'unsafe-inline': the language switch in web/base.html submits its form on change. (htmx's
# own indicator <style> is turned off there by <meta name="htmx-config">; web/cases.css has it.)
LANGUAGE_SWITCH_HANDLER = "this.form.submit()"


def csp_hash(source: str) -> str:
    """The CSP hash source ('sha256-…') of an inline script, handler or style."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def tile_sources(template: str) -> list[str]:
    """CSP sources for a Leaflet XYZ tile template ("https://{s}.tile.example.org/{z}/{x}/{y}.png").

    A ``{s}`` sub-domain placeholder becomes a ``*.`` wildcard; an empty or relative template
    (tiles served by ourselves) needs nothing beyond 'self'.
    """
    template = template.strip()
    if not template:
        return []
    parts = urlsplit(template)
    if not parts.scheme or not parts.netloc:
        return []
    host = parts.netloc
    if "{" in host:
        # "{s}.tile.example.org" or "t{s}.tianditu.gov.cn": every label with a placeholder
        # becomes one wildcard, which CSP allows only as the left-most label.
        labels = host.split(".")
        while labels and "{" in labels[0]:
            labels.pop(0)
        if not labels or any("{" in label for label in labels):
            raise ValueError(f"cannot express tile host {host!r} as a CSP source")
        host = "*." + ".".join(labels)
    return [f"{parts.scheme}://{host}"]


def content_security_policy(*, map_tiles: str = "", report_uri: str = "") -> dict[str, Any]:
    """The django-csp policy: our own files only, no inline code but the hashed handler above."""
    directives: dict[str, Any] = {
        "default-src": [SELF],
        "script-src": [SELF, UNSAFE_HASHES, csp_hash(LANGUAGE_SWITCH_HANDLER)],
        "style-src": [SELF],
        # data: for the empty favicon in web/base.html; blob: for photo previews before upload.
        "img-src": [SELF, "data:", "blob:", *tile_sources(map_tiles)],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
    if report_uri:
        directives["report-uri"] = [report_uri]
    return {"DIRECTIVES": directives}
