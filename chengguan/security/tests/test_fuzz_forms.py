"""Hypothesis over the citizen's forms (complain, follow, rate) and the inspector's report,
through the Django test client (which re-raises any server error in the test).

Property: never a 500; the answer is a page (200/302) or a refusal (400/404/409); a refused
submission leaves the case tables and the photo folder as they were, an accepted one adds
exactly what it should.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chengguan.cases.models import Attachment, Case, CaseEvent, CitizenContact
from chengguan.web.tests.conftest import Site, build_site

pytestmark = pytest.mark.django_db

EXAMPLES = 40
FUZZED: dict[str, int] = {}
REFUSALS = {400, 404, 409}


@pytest.fixture(autouse=True)
def private_media(settings: Any, tmp_path: Path) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHENGGUAN_MAP_TILES = ""


@pytest.fixture
def site(db: None) -> Site:
    return build_site()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), (10, 200, 10)).save(buffer, "PNG")
    return buffer.getvalue()


text = st.one_of(
    st.text(max_size=60),
    st.text(max_size=3000),
    st.sampled_from(["", " ", "\x00", "路灯不亮", "<script>alert(1)</script>", "' OR 1=1 --", "🙂" * 10]),
)
number_text = st.one_of(
    st.floats().map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", "42.27", "118.96", "NaN", "inf", "-inf", "1e999", "42,27", "０.５", "4 2"]),
    st.text(max_size=12),
)
photo_files = st.lists(
    st.one_of(
        st.builds(
            lambda name: SimpleUploadedFile(name, png(), "image/png"), st.text(min_size=1, max_size=40)
        ),
        st.builds(
            lambda name, data: SimpleUploadedFile(name, data, "image/jpeg"),
            st.text(min_size=1, max_size=40),
            st.binary(max_size=300),
        ),
    ),
    max_size=2,
)


def state(settings: Any) -> tuple[int, ...]:
    root = Path(settings.MEDIA_ROOT)
    files = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    counts = (m.objects.count() for m in (Case, CaseEvent, Attachment, CitizenContact))
    return (*counts, files)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def fuzz(name: str, strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> int:
    FUZZED[name] = 0

    @FUZZ
    @given(data=strategy)
    def examples(data: Any) -> None:
        FUZZED[name] += 1
        check(data)

    examples()
    return FUZZED[name]


def report(capsys: pytest.CaptureFixture[str], name: str, count: int) -> None:
    assert count >= EXAMPLES // 2, "hypothesis ran too few examples to mean anything"
    with capsys.disabled():
        print(
            f"\n[fuzz] {name}: {count} generated submissions, no server error; {sum(FUZZED.values())} so far"
        )


def category_value(site: Site) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from([str(site.garbage.pk), str(site.building.pk), "", "0", "-1", "999999"]),
        st.text(max_size=10),
    )


def test_fuzz_citizen_complaint(site: Site, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = Client()
    form = st.fixed_dictionaries(
        {
            "category": category_value(site),
            "description": text,
            "lat": number_text,
            "lon": number_text,
            "address": text,
            "name": text,
            "phone": st.one_of(st.sampled_from(["13912345678", "+86 139-1234-5678"]), text),
        },
        optional={"photos": photo_files},
    )

    def check(data: dict[str, Any]) -> None:
        before = state(settings)
        response = client.post("/public/complain/", data)
        assert response.status_code in {302} | REFUSALS
        after = state(settings)
        if response.status_code == 302:
            assert after[0] == before[0] + 1 and after[3] == before[3] + 1
        else:
            assert after == before, "a refused complaint left something behind"

    report(capsys, "citizen complaint", fuzz("complaint", form, check))


def test_fuzz_follow_and_rate(site: Site, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    closed = site.to("closed", channel="web", reporter_staff=None, reporter_user=None)
    token = CitizenContact.objects.get(case=closed).follow_token
    client = Client()
    codes = st.one_of(st.just(closed.code), text)
    tokens = st.one_of(st.just(token), text)
    follow = st.fixed_dictionaries({"code": codes, "token": tokens})
    rate = st.fixed_dictionaries(
        {
            "code": codes,
            "token": tokens,
            "satisfaction": st.one_of(st.sampled_from(["1", "3", "5", "0", "6", ""]), text),
            "note": text,
        }
    )

    def check_follow(data: dict[str, Any]) -> None:
        before = state(settings)
        response = client.post("/public/follow/", data)
        assert response.status_code in {200} | REFUSALS
        assert state(settings) == before  # following reads only

    def check_rate(data: dict[str, Any]) -> None:
        before = state(settings)
        rated_before = CaseEvent.objects.filter(case=closed, action="rate").count()
        response = client.post("/public/rate/", data)
        assert response.status_code in {200} | REFUSALS
        rated = CaseEvent.objects.filter(case=closed, action="rate").count()
        if response.status_code == 200 and rated > rated_before:
            assert rated == 1 and state(settings)[1] == before[1] + 1
        else:
            assert state(settings) == before, "a refused rating left something behind"

    report(capsys, "follow a case", fuzz("follow", follow, check_follow))
    report(capsys, "rate a case", fuzz("rate", rate, check_rate))
    assert CaseEvent.objects.filter(case=closed, action="rate").count() <= 1  # rated once at most


def test_fuzz_inspector_report(site: Site, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = site.client("inspector")
    form = st.fixed_dictionaries(
        {
            "category": category_value(site),
            "description": text,
            "lat": number_text,
            "lon": number_text,
            "address": text,
            "self_handled": st.sampled_from(["", "on", "x"]),
        },
        optional={"photos": photo_files},
    )

    def check(data: dict[str, Any]) -> None:
        before = state(settings)
        response = client.post("/m/report/", data)
        assert response.status_code in {302} | REFUSALS
        after = state(settings)
        if response.status_code == 302:
            assert after[0] == before[0] + 1
        else:
            assert after == before, "a refused report left something behind"

    report(capsys, "inspector report", fuzz("inspector report", form, check))
