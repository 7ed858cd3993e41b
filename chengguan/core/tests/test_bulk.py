"""insert_new (chengguan.core.bulk) stores exactly what Django's bulk_create stores, on both
databases: JSON, choices, defaults, auto_now(_add), foreign keys to rows saved just before."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DataError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.api.models import Delivery, Subscription
from chengguan.core.bulk import insert_new

URL = "https://example.cn/hook"


def stored(obj: Any) -> dict[str, Any]:
    """Every column of the row as read back, without its id and clock columns."""
    row = type(obj).objects.get(pk=obj.pk)
    skip = {"id", "created_at", "updated_at", "subscription_id"}
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if f.attname not in skip}


texts = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
subscriptions = st.lists(
    st.tuples(
        texts, st.lists(st.sampled_from(["case.report", "case.dispatch", "*"]), max_size=3), st.booleans()
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=subscriptions, payload=json_values.filter(lambda v: v is not None))  # None is SQL NULL
def test_rows_read_back_as_bulk_create_stores_them(
    rows: list[tuple[str, list[str], bool]], payload: Any
) -> None:
    def build(tag: str) -> tuple[list[Subscription], list[Delivery]]:
        subs = [
            Subscription(
                name=f"{tag}{name}", url="https://example.cn/hook", secret="s", event_types=kinds, active=on
            )
            for name, kinds, on in rows
        ]
        # Deliveries built against subscriptions that have no id yet: the ids are taken when
        # the subscriptions are in, as bulk_create does.
        deliveries = [
            Delivery(subscription=s, event_type="case.report", event_id=n, payload=payload)
            for n, s in enumerate(subs)
        ]
        return subs, deliveries

    with transaction.atomic():
        ours_subs, ours_deliveries = build("a")
        insert_new(ours_subs)
        insert_new(ours_deliveries)
        theirs_subs, theirs_deliveries = build("a")
        Subscription.objects.bulk_create(theirs_subs)
        Delivery.objects.bulk_create(theirs_deliveries)

        assert all(s.pk is not None and not s._state.adding for s in ours_subs)
        assert len({s.pk for s in ours_subs}) == len(ours_subs)
        for ours, theirs in zip(ours_subs + ours_deliveries, theirs_subs + theirs_deliveries, strict=True):
            assert stored(ours) == stored(theirs)
        for delivery, sub in zip(ours_deliveries, ours_subs, strict=True):
            row = Delivery.objects.get(pk=delivery.pk)
            assert row.subscription_id == sub.pk and row.status == "pending" and row.attempts == 0
            assert row.created_at is not None
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_many_rows_in_one_call_and_nothing_to_do() -> None:
    insert_new([])
    subs = [Subscription(name=f"订阅{n}", url="https://example.cn/hook", secret="s") for n in range(700)]
    insert_new(subs)  # 700 × 8 columns: more than old SQLite builds take in one statement
    assert Subscription.objects.count() == 700
    assert sorted(s.pk for s in subs) == sorted(Subscription.objects.values_list("pk", flat=True))
    assert Subscription.objects.get(pk=subs[-1].pk).name == "订阅699"


@pytest.mark.django_db
def test_refuses_what_it_was_not_made_for() -> None:
    sub = Subscription.objects.create(name="已有", url="https://example.cn/hook", secret="s")
    with pytest.raises(ValueError):
        insert_new([sub])  # already saved
    with pytest.raises(ValueError):
        insert_new([Subscription(name="x", url="https://example.cn/h", secret="s"), Delivery()])  # two models
    assert Subscription.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_value_too_long_is_refused_not_cut() -> None:
    assert connection.vendor == "postgresql"
    with pytest.raises(DataError), transaction.atomic():
        insert_new([Subscription(name="名" * 101, url="https://example.cn/hook", secret="s")])
    assert not Subscription.objects.exists()
