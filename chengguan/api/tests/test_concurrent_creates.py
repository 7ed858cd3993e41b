"""Open311 creates arriving together through a live server (the group commit at work): every
caller gets the id of the case made from *its* request, refusals stay with their senders, and
the day's codes stay gap-free."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from chengguan.api.models import Open311Request, Scope
from chengguan.api.tests.conftest import INSIDE, OUTSIDE, District, issue
from chengguan.cases import intake
from chengguan.cases.models import Case, CaseEvent

CALLERS = 16


def post(url: str, form: dict[str, str]) -> tuple[int, Any]:
    body = urllib.parse.urlencode(form).encode()
    request = urllib.request.Request(url, data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.postgres
def test_simultaneous_creates_each_get_their_own_case(live_server: Any, live_district: District) -> None:
    key = issue([Scope.OPEN311_WRITE], name="并发测试")
    url = f"{live_server.url}/open311/v2/requests.json"
    before = intake.stats().reports
    start = threading.Barrier(CALLERS)
    answers: dict[int, tuple[int, Any]] = {}
    lock = threading.Lock()

    def caller(n: int) -> None:
        lat, lon = OUTSIDE if n == 5 else INSIDE  # one request from outside the district
        form = {
            "api_key": key,
            "service_code": "C01001",
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": f"并发上报 {n}",
            "email": f"citizen{n}@example.cn",
            "device_id": f"device-{n}",
        }
        start.wait()
        answer = post(url, form)
        with lock:
            answers[n] = answer

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == CALLERS
    status, refused = answers.pop(5)
    assert status == 400 and refused[0]["code"] == 400 and "网格" in refused[0]["description"]
    assert all(status == 200 for status, _ in answers.values()), answers
    ids = {n: body[0]["service_request_id"] for n, (_, body) in answers.items()}
    assert len(set(ids.values())) == CALLERS - 1
    for n, code in ids.items():
        case = Case.objects.get(code=code)
        # The id a caller got names the case made from that caller's own request.
        assert case.description == f"并发上报 {n}" and case.channel == "open311"
        assert Open311Request.objects.get(case=case).device_id == f"device-{n}"
        assert list(CaseEvent.objects.filter(case=case).values_list("action", flat=True)) == ["report"]
    assert not Case.objects.filter(description="并发上报 5").exists()
    # Gap-free: the created cases hold the day's first codes, one each.
    serials = sorted(int(code[-5:]) for code in ids.values())
    assert serials == list(range(1, CALLERS))
    assert intake.stats().reports - before == CALLERS  # all went through the group commit
