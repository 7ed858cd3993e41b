"""Batch intake (report_many): the same cases as report(), one counter statement, all or
nothing against the database, refusals per input; and the import command built on it."""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.api.models import Delivery, Subscription
from chengguan.cases import services
from chengguan.cases.models import Case, CaseEvent, CitizenContact, DailyCounter
from chengguan.cases.tests.conftest import World, at
from chengguan.core.tabular import write_table

MON = "2026-11-23"  # a Monday with no holiday
TUE = "2026-11-24"


def inputs_of(world: World, when: str = MON) -> list[services.ReportInput]:
    """One input of every kind report() treats differently."""
    inspector, user = world.staff["inspector"], world.users["inspector"]
    return [
        services.ReportInput(  # a patrol report on foot
            category=world.category,
            description=" 主干道旁成堆垃圾 ",
            channel="patrol",
            address="东岭街道光明路 12 号",
            reporter_staff=inspector,
            reporter_user=user,
            territory=world.town,
            at=at(when, "09:00"),
            tags=["创文"],
            quantity=Decimal("2.5"),
            quantity_unit="m²",
        ),
        services.ReportInput(  # a 12345 work order with the caller's contact
            category=world.category,
            description="小区门口垃圾无人清运",
            channel="hotline",
            address="东岭街道幸福里 3 号",
            citizen=services.CitizenInfo(name=" 王女士 ", phone="13900000001"),
            territory=world.town,
            at=at(when, "09:05"),
            area_class="A",
        ),
        services.ReportInput(  # a web report without contact: still gets a follow token
            category=world.category,
            description="垃圾桶满溢",
            channel="web",
            address="东岭街道光明路 40 号",
            at=at(when, "09:10"),
        ),
        services.ReportInput(  # handled on the spot by the inspector
            category=world.category,
            description="小广告已当场清除",
            channel="patrol",
            address="东岭街道光明路 50 号",
            reporter_staff=inspector,
            reporter_user=user,
            self_handled=True,
            at=at(when, "09:20"),
        ),
        services.ReportInput(  # urgent: the clock runs round the clock
            category=world.category,
            description="井盖缺失",
            channel="camera",
            address="东岭街道光明路 60 号",
            urgency="urgent",
            work_kind="ordinary",
            at=at(when, "18:30"),
        ),
    ]


def fields_of(obj: Any, skip: set[str]) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in skip}


def stored(case: Case) -> tuple[dict[str, Any], dict[str, Any] | None, list[dict[str, Any]]]:
    """Every stored field of the case, its contact and its events, except ids, codes, tokens
    and the row's own timestamp."""
    case = Case.objects.get(pk=case.pk)
    contact = CitizenContact.objects.filter(case=case).first()
    return (
        fields_of(case, {"id", "code", "updated_at"}),
        fields_of(contact, {"id", "case_id", "follow_token"}) if contact else None,
        [fields_of(e, {"id", "case_id"}) for e in CaseEvent.objects.filter(case=case).order_by("seq")],
    )


def counter(day: str) -> int:
    return DailyCounter.objects.filter(day=day).values_list("last", flat=True).first() or 0


def test_a_batch_stores_exactly_what_report_stores(world: World) -> None:
    one_by_one = [services.report(data) for data in inputs_of(world, MON)]
    batch = services.report_many(inputs_of(world, MON))
    assert batch.errors == [] and [i for i, _ in batch.created] == [0, 1, 2, 3, 4]
    for single, batched in zip(one_by_one, batch.cases, strict=True):
        assert stored(single) == stored(batched)
    contacts = {c.case_id: c for c in CitizenContact.objects.filter(case__in=batch.cases)}
    assert set(contacts) == {batch.cases[1].pk, batch.cases[2].pk}  # the two public channels
    assert all(len(c.follow_token) >= 16 for c in contacts.values())
    statuses = [c.status for c in batch.cases]
    assert statuses == ["reported", "reported", "reported", "self_handled", "reported"]


def test_codes_are_consecutive_and_continue_the_days_counter(world: World) -> None:
    first = world.report(at(MON, "08:30"))
    assert first.code == "2026112300001"
    inputs = inputs_of(world, MON)[:3] + inputs_of(world, TUE)[:2] + inputs_of(world, MON)[3:]
    batch = services.report_many(inputs)
    assert batch.codes == [
        "2026112300002",
        "2026112300003",
        "2026112300004",
        "2026112400001",
        "2026112400002",
        "2026112300005",
        "2026112300006",
    ]
    assert counter(MON) == 6 and counter(TUE) == 2
    assert world.report(at(MON, "19:00")).code == "2026112300007"  # report() carries on


def test_refused_inputs_come_back_and_the_others_are_created(world: World) -> None:
    good = inputs_of(world, MON)
    bad_description = services.ReportInput(
        category=world.category, description="  ", channel="hotline", address="某路", at=at(MON, "10:00")
    )
    half_point = services.ReportInput(
        category=world.category, description="路灯不亮", channel="web", lat=30.1, at=at(MON, "10:00")
    )
    long_address = services.ReportInput(
        category=world.category, description="占道经营", channel="web", address="路" * 201
    )
    batch = services.report_many([bad_description, good[0], half_point, good[1], long_address])
    assert [(e.index, e.field) for e in batch.errors] == [(0, "description"), (2, "lat"), (4, "address")]
    assert batch.errors[0].message == "请填写问题描述。"
    assert [i for i, _ in batch.created] == [1, 3]
    assert batch.codes == ["2026112300001", "2026112300002"]
    assert Case.objects.count() == 2 and CaseEvent.objects.count() == 2
    assert services.check_many([bad_description, good[0]]) == batch.errors[:1]


def test_a_batch_of_refusals_writes_nothing(world: World) -> None:
    bad = services.ReportInput(category=world.category, description="", channel="patrol", address="某路")
    batch = services.report_many([bad, bad])
    assert batch.created == [] and len(batch.errors) == 2
    assert not Case.objects.exists() and not DailyCounter.objects.exists()


def test_the_database_refusing_the_batch_leaves_nothing(world: World) -> None:
    # A case already holds the code the counter gives out next (say, typed in by hand in an
    # old system's migration): the unique code makes the database refuse the batch's insert.
    taken = world.report(at(MON, "08:00"))
    Case.objects.filter(pk=taken.pk).update(code="2026112300003")
    before = (Case.objects.count(), CaseEvent.objects.count(), CitizenContact.objects.count())
    with pytest.raises(IntegrityError):
        services.report_many(inputs_of(world, MON))
    assert (Case.objects.count(), CaseEvent.objects.count(), CitizenContact.objects.count()) == before
    assert counter(MON) == 1  # no code consumed
    assert world.report(at(MON, "11:00")).code == "2026112300002"


def test_every_created_event_gets_its_webhook_delivery_once(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with socket.socket() as s:  # a port nobody listens on: deliveries stay pending
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    Subscription.objects.create(name="大屏", url=dead, secret="s" * 32, event_types=["*"])
    inputs = inputs_of(world, MON)
    inputs.insert(2, services.ReportInput(category=world.category, description="", channel="web"))
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.report_many(inputs)
    events = set(CaseEvent.objects.filter(case__in=batch.cases).values_list("pk", flat=True))
    delivered = list(Delivery.objects.values_list("event_id", flat=True))
    assert len(events) == 5 and sorted(delivered) == sorted(events)
    assert set(Delivery.objects.values_list("event_type", flat=True)) == {"case.report", "case.self_handle"}
    # Scheduled once per event: each delivery was attempted exactly once (at commit).
    assert list(Delivery.objects.values_list("attempts", flat=True)) == [1] * 5


def test_nothing_is_delivered_for_a_refused_batch(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    Subscription.objects.create(name="大屏", url="http://127.0.0.1:9/", secret="s" * 32, event_types=["*"])
    taken = world.report(at(MON, "08:00"))
    Case.objects.filter(pk=taken.pk).update(code="2026112300002")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(IntegrityError):
        services.report_many(inputs_of(world, MON))
    assert callbacks == [] and Delivery.objects.count() == 0


def mixed_input(world: World, kind: int, hour: int) -> services.ReportInput:
    """Kind 0–2 valid, 3–6 refused, each for a different rule."""
    base: dict[str, Any] = dict(
        category=world.category,
        description="路面破损",
        channel="hotline",
        address="东岭街道光明路 1 号",
        at=at(MON, f"{hour:02d}:00"),
    )
    if kind == 1:
        base.update(channel="patrol", reporter_staff=world.staff["inspector"], self_handled=True)
    elif kind == 2:
        base.update(citizen=services.CitizenInfo(name="李先生"), urgency="urgent")
    elif kind == 3:
        base.update(description="")
    elif kind == 4:
        base.update(channel="fax")
    elif kind == 5:
        base.update(lat=30.0)
    elif kind == 6:
        base.update(self_handled=True)
    return services.ReportInput(**base)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 23)), max_size=30))
def test_every_input_is_created_or_refused_and_codes_are_contiguous(
    world: World, kinds: list[tuple[int, int]]
) -> None:
    start = counter(MON)
    inputs = [mixed_input(world, kind, hour) for kind, hour in kinds]
    batch = services.report_many(inputs)
    created = [i for i, _ in batch.created]
    refused = [e.index for e in batch.errors]
    assert sorted(created + refused) == list(range(len(inputs)))
    assert refused == [i for i, (kind, _) in enumerate(kinds) if kind >= 3]
    numbers = [int(code[-5:]) for code in batch.codes]
    assert numbers == list(range(start + 1, start + 1 + len(created)))
    assert counter(MON) == start + len(created)
    assert CaseEvent.objects.filter(case__in=batch.cases, seq=1).count() == len(created)


# -- the import command ----------------------------------------------------------------------

HEADER = [
    "工单编号",
    "渠道",
    "类别编码",
    "问题描述",
    "纬度",
    "经度",
    "地址",
    "联系人",
    "联系电话",
    "上报时间",
]


def table_file(tmp_path: Path, rows: list[list[str]], fmt: str = "csv") -> Path:
    path = tmp_path / f"work-orders.{fmt}"
    path.write_bytes(write_table(HEADER, rows, fmt))
    return path


def rows_good_and_bad() -> list[list[str]]:
    """Rows 2, 3 and 8 are good; 4 to 7 each have one bad value (columns as in HEADER)."""
    rows = [
        "GD17|12345热线|06010|小区门口垃圾无人清运|||光明路 3 号|王女士|13900000001|2026-11-23 09:05",
        "GD18|hotline|06010|垃圾桶满溢|||光明路 40 号|||2026/11/23 9:40:00",
        "GD19|12345热线|99999|井盖缺失|||光明路 60 号|||2026-11-23 10:00",
        "GD20|12345热线|06010||||光明路 70 号|||2026-11-23 10:05",
        "GD21|12345热线|06010|路灯不亮|北纬30度|120.1||||2026-11-23 10:10",
        "GD22|12345热线|06010|占道经营|||光明路 80 号|||昨天",
        "|视频/AI 识别|06010|乱堆物料|||光明路 90 号|||2026-11-23 10:20",
    ]
    return [row.split("|") for row in rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_creates_good_rows_and_reports_bad_ones_by_row(world: World, tmp_path: Path, fmt: str) -> None:
    path = table_file(tmp_path, rows_good_and_bad(), fmt)
    out, err = _Buffer(), _Buffer()
    with pytest.raises(CommandError, match="其余 3 行已导入"):
        call_command("import_cases", str(path), stdout=out, stderr=err)
    assert "第 4 行「类别编码」：" in err.text and "99999" in err.text
    assert "第 5 行「问题描述」：请填写问题描述。" in err.text
    assert "第 6 行「纬度」：" in err.text
    assert "第 7 行「上报时间」：" in err.text
    cases = list(Case.objects.order_by("code"))
    assert [c.code for c in cases] == ["2026112300001", "2026112300002", "2026112300003"]
    assert "2026112300001" in out.text and "2026112300003" in out.text
    first = cases[0]
    assert first.channel == "hotline" and first.tags == ["12345工单:GD17"]
    assert first.reported_at == at(MON, "09:05") and first.citizen.phone == "13900000001"
    assert cases[1].reported_at == at(MON, "09:40")
    assert cases[2].channel == "camera" and cases[2].tags == []


def test_import_dry_run_writes_nothing(world: World, tmp_path: Path) -> None:
    good = rows_good_and_bad()[:2]
    out = _Buffer()
    call_command("import_cases", str(table_file(tmp_path, good)), "--dry-run", stdout=out)
    assert "检查通过（未写入）" in out.text and "2 行" in out.text
    assert not Case.objects.exists() and not DailyCounter.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_cases", str(table_file(tmp_path, rows_good_and_bad())), "--dry-run")
    assert not Case.objects.exists() and not DailyCounter.objects.exists()


def test_import_refuses_a_file_without_its_required_columns(world: World, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(write_table(["问题描述"], [["垃圾"]], "csv"))
    with pytest.raises(CommandError, match="类别编码"):
        call_command("import_cases", str(path))
    assert not Case.objects.exists()


class _Buffer:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_import_refuses_a_work_order_number_twice_in_one_file(world: World, tmp_path: Path) -> None:
    first = rows_good_and_bad()[0]
    again = [*first[:3], "同一工单重复导出", *first[4:]]
    err = _Buffer()
    with pytest.raises(CommandError, match="其余 1 行已导入"):
        call_command("import_cases", str(table_file(tmp_path, [first, again])), stderr=err)
    assert "第 3 行「工单编号」：工单编号与第 2 行重复。" in err.text
    assert list(Case.objects.values_list("description", flat=True)) == ["小区门口垃圾无人清运"]
