"""Photos are stored by the domain service in the step's transaction: file and row together.

A step that fails after its photos were stored (here: a later photo is refused) leaves no
row, no event and no file behind.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chengguan.cases import services
from chengguan.cases.forms import check_photo
from chengguan.cases.models import Attachment, Case, CaseEvent
from chengguan.cases.tests.conftest import at

MON = "2026-11-23"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def picture(name: str = "现场.jpg", kind: str = "JPEG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_report_stores_its_photos_with_the_first_event(world, media) -> None:
    case = world.report(
        at(MON, "09:00"), photos=[check_photo(picture()), check_photo(picture("b.png", "PNG"))]
    )
    stored = list(Attachment.objects.filter(case=case).order_by("pk"))
    assert [(a.kind, a.extension, a.content_type) for a in stored] == [
        ("before", ".jpg", "image/jpeg"),
        ("before", ".png", "image/png"),
    ]
    assert {a.event_id for a in stored} == {CaseEvent.objects.get(case=case, seq=1).pk}
    assert sorted(files_in(media)) == sorted(media / a.file.name for a in stored)
    assert all(case.code in a.file.name and a.token in a.file.name for a in stored)


def test_a_report_refused_after_its_photo_step_leaves_no_file_and_no_row(world, media) -> None:
    good = check_photo(picture())
    lying = check_photo(picture("c.png", "PNG"))
    bad = type(lying)(lying.upload, "image/png", ".jpg")  # a type that does not match its name
    cases_before = Case.objects.count()
    with pytest.raises(services.CaseError) as refused:
        world.report(at(MON, "09:00"), photos=[good, bad])
    assert refused.value.field == "photos"
    assert Case.objects.count() == cases_before
    assert not Attachment.objects.exists() and not CaseEvent.objects.exists()
    assert files_in(media) == []  # the first photo had been written: it is gone again
    # and the day's code was not used up
    assert world.report(at(MON, "09:00")).code == "2026112300001"


def test_a_transition_refused_after_its_photo_step_changes_nothing(world, media) -> None:
    case = world.report(at(MON, "09:00"))
    case = world.act(case, "register", "shift_leader", at(MON, "09:10"))
    case = world.act(case, "dispatch", "dispatcher", at(MON, "09:20"))
    case = world.act(case, "accept", "handler", at(MON, "09:30"))
    events = CaseEvent.objects.filter(case=case).count()
    bad = check_photo(picture())
    bad = type(bad)(bad.upload, "image/gif", ".gif")
    with pytest.raises(services.CaseError):
        services.transition(
            case.pk,
            services.TransitionInput("report_back", note="已清理", at=at(MON, "10:00")),
            world.users["handler"],
            photos=[check_photo(picture()), bad],
        )
    case.refresh_from_db()
    assert case.status == "handling" and CaseEvent.objects.filter(case=case).count() == events
    assert not Attachment.objects.exists() and files_in(media) == []
    done = services.transition(
        case.pk,
        services.TransitionInput("report_back", note="已清理", at=at(MON, "10:00")),
        world.users["handler"],
        photos=[check_photo(picture())],
    )
    photo = Attachment.objects.get(case=done)
    assert (
        photo.kind == "after" and photo.event == CaseEvent.objects.filter(case=done).order_by("-seq").first()
    )
    assert files_in(media) == [media / photo.file.name]
