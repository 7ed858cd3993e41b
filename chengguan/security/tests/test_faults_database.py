"""The database goes away under a running server and comes back: clean 503s, then recovery.

The real PostgreSQL server is never restarted (other suites share it). Instead the test cuts
every connection to its own test database (``pg_terminate_backend``) and, for the outage,
makes that database refuse new connections (``ALLOW_CONNECTIONS false``), which is what the
app sees while PostgreSQL restarts. The server is Django's WSGI handler behind a plain
single-threaded WSGI server, one thread serving every request like a sync app-server worker,
so it keeps its connection between requests (persistent connections with health checks, as
production runs); Django's live server would close it after each request.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import wsgiref.simple_server
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections

from chengguan.catalog.models import Category

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode()


def cut_connections() -> int:
    """Terminate every other backend on this test database; how many were cut."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def allow_connections(allowed: bool) -> None:
    # PostgreSQL will not change this for the database a session is in: ask from "postgres".
    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    name = connection.ops.quote_name(connection.settings_dict["NAME"])
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS {'true' if allowed else 'false'}")  # type: ignore[arg-type]


class QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def app_server(persistent_connections: None) -> Iterator[str]:
    server = wsgiref.simple_server.make_server("127.0.0.1", 0, WSGIHandler(), handler_class=QuietHandler)

    def serve() -> None:
        try:
            server.serve_forever(poll_interval=0.1)
        finally:
            connections.close_all()  # this thread's kept connection

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=30)
    server.server_close()


@pytest.fixture
def persistent_connections() -> Iterator[None]:
    """Production's settings for the server thread: kept connections, checked before reuse."""
    settings_dict: dict[str, Any] = connection.settings_dict  # the same dict every thread reads
    saved = settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"]
    settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"] = 600, True
    try:
        yield
    finally:
        allow_connections(True)
        settings_dict["CONN_MAX_AGE"], settings_dict["CONN_HEALTH_CHECKS"] = saved
        cut_connections()  # nothing of the server thread's kept connection outlives the test


def test_cut_connections_and_an_outage_give_503s_then_recover(app_server: str) -> None:
    Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    base = app_server
    status, _, body = fetch(f"{base}/public/")
    assert status == 200 and "暴露垃圾" in body

    # 1. The server's kept connection is cut (a restart that is already over): the next
    #    request notices before using it and opens a new one. No error, no manual step.
    assert cut_connections() >= 1
    status, _, body = fetch(f"{base}/public/")
    assert status == 200 and "暴露垃圾" in body

    # 2. The database refuses connections (a restart in progress): clean 503s everywhere.
    allow_connections(False)
    cut_connections()
    status, content_type, body = fetch(f"{base}/public/")
    assert status == 503 and content_type.startswith("text/html")
    assert "数据库暂时无法连接" in body and "Traceback" not in body
    status, content_type, body = fetch(f"{base}/api/v1/cases/", headers={"X-Api-Key": "cg_nonexistent"})
    assert status == 503 and content_type.startswith("application/json")
    assert json.loads(body)["error"]["code"] == "unavailable"
    status, _, body = fetch(f"{base}/open311/v2/services.json")
    assert status == 503 and json.loads(body)[0]["code"] == 503
    status, _, body = fetch(
        f"{base}/open311/v2/requests.json",
        data=b"api_key=x&service_code=06010&lat=42.27&long=118.96&description=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 503 and json.loads(body)[0]["code"] == 503
    status, content_type, body = fetch(f"{base}/open311/v2/services.xml")
    assert status == 503 and "<errors>" in body

    # 3. The database is back: the very next request works.
    allow_connections(True)
    status, _, body = fetch(f"{base}/public/")
    assert status == 200 and "暴露垃圾" in body
