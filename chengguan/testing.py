"""Helpers the test suite and benchmarks share (no test doubles: real databases only)."""

from __future__ import annotations

import socket
from urllib.parse import urlparse


def postgres_reachable(url: str, timeout: float = 2.0) -> tuple[bool, str]:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 5432
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, ""
    except OSError as exc:
        return False, f"{host}:{port} ({exc.strerror or exc})"
