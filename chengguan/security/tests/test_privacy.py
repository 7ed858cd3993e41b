"""Masking helpers (hypothesis) and the personal-data view audit."""

from __future__ import annotations

import string

import pytest
from django.contrib.auth.models import User
from hypothesis import given
from hypothesis import strategies as st

from chengguan.security.models import AuditLogError, PersonalDataAccess
from chengguan.security.privacy import (
    MASK,
    log_personal_data_view,
    mask_contact,
    mask_email,
    mask_name,
    mask_phone,
)

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
separators = st.sampled_from(["", " ", "-"])
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


def test_examples() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("John Smith") == "J*** *****"
    assert mask_name("张") == "*"
    assert mask_name("") == ""
    assert mask_phone("13912341234") == "139****1234"
    assert mask_phone("139 1234 1234") == "139 **** 1234"
    assert mask_phone("+86 139-1234-1234") == "+86 1**-****-1234"
    assert mask_phone("0476-8888888") == "047*-***8888"  # 11 digits: like a mobile
    assert mask_phone("8888888") == "*****88"
    assert mask_phone("12345") == "****5"
    assert mask_email("zhangsan@example.com") == "z*******@example.com"
    assert mask_email("a@example.com") == "*@example.com"
    assert mask_contact("李四", "13800001111", "") == {"name": "李*", "phone": "138****1111", "email": ""}


@given(mobiles)
def test_mobile_keeps_only_first_three_and_last_four(phone: str) -> None:
    masked = mask_phone(phone)
    assert masked == phone[:3] + MASK * 4 + phone[-4:]
    assert len(masked) == len(phone)


@given(st.text(alphabet=string.digits + " -+()", min_size=0, max_size=24))
def test_phone_mask_never_reveals_the_middle_digits(phone: str) -> None:
    masked = mask_phone(phone)
    assert len(masked) == len(phone.strip())  # length class kept: a phone still looks like a phone
    digit_positions = [i for i, char in enumerate(phone.strip()) if char.isdigit()]
    n = len(digit_positions)
    visible_front = 3 if n >= 11 else 0
    visible_back = 4 if n >= 8 else n // 3
    stripped = masked.strip()
    for i in digit_positions[visible_front : n - visible_back]:
        assert stripped[i] == MASK
    # at most seven digits ever stay readable, and always fewer than the hidden ones for mobiles
    assert sum(char.isdigit() for char in masked) <= 7
    # separators are kept where they were
    assert [c for c in stripped if not (c.isdigit() or c == MASK)] == [
        c for c in phone.strip() if not c.isdigit()
    ]


@given(st.one_of(mobiles, st.text(alphabet=string.digits + " -", max_size=20)))
def test_phone_mask_is_idempotent(phone: str) -> None:
    assert mask_phone(mask_phone(phone)) == mask_phone(phone)


@given(st.text(alphabet=cjk, min_size=1, max_size=6))
def test_chinese_name_shows_only_the_surname_character(name: str) -> None:
    masked = mask_name(name)
    assert len(masked) == len(name)
    if len(name) > 1:
        assert masked[0] == name[0] and set(masked[1:]) == {MASK}
    else:
        assert masked == MASK
    assert mask_name(masked) == masked


@given(st.emails())
def test_email_hides_the_local_part_but_its_first_letter(email: str) -> None:
    masked = mask_email(email)
    local, _, domain = email.rpartition("@")
    assert len(masked) == len(email)
    assert masked.endswith("@" + domain)
    masked_local = masked[: len(local)]
    assert set(masked_local[1:]) <= {MASK}
    assert mask_email(masked) == masked


@pytest.fixture
def officer(db) -> User:
    return User.objects.create_user("officer", password="Pw-for-tests-42")


@pytest.mark.django_db
def test_log_records_who_what_where(officer: User, rf) -> None:
    request = rf.get("/cases/X/", REMOTE_ADDR="10.1.2.3")
    entry = log_personal_data_view(
        officer, None, ["phone", "name", "phone"], "web:case", reason="回访", request=request
    )
    entry.refresh_from_db()
    assert entry.user == officer and entry.username == "officer"
    assert entry.fields == ["name", "phone"]
    assert entry.where == "web:case" and entry.reason == "回访"
    assert entry.ip_address == "10.1.2.3"
    assert entry.at is not None


@pytest.mark.django_db
def test_log_refuses_unknown_fields_and_empty_lists(officer: User) -> None:
    with pytest.raises(ValueError, match="unknown"):
        log_personal_data_view(officer, None, ["idcard"], "x")
    with pytest.raises(ValueError):
        log_personal_data_view(officer, None, [], "x")


@pytest.mark.django_db
def test_audit_entries_cannot_be_changed_or_deleted(officer: User) -> None:
    entry = log_personal_data_view(officer, None, ["phone"], "web:case")
    entry.where = "elsewhere"
    with pytest.raises(AuditLogError):
        entry.save()
    with pytest.raises(AuditLogError):
        entry.delete()
    assert PersonalDataAccess.objects.get().where == "web:case"


@pytest.mark.django_db
def test_audit_admin_is_read_only(admin_client) -> None:
    assert admin_client.get("/admin/security/personaldataaccess/").status_code == 200
    assert admin_client.get("/admin/security/personaldataaccess/add/").status_code == 403
