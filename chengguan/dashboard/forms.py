"""The dashboard's filter form: period, territory, unit and category (all optional)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from chengguan.catalog.models import Category
from chengguan.dashboard import selectors
from chengguan.dashboard.figures import Period, PeriodKind, period_for
from chengguan.dashboard.labels import KINDS, PERIODS
from chengguan.dashboard.selectors import Filters

MAX_CUSTOM_DAYS = 3 * 366


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(
        label=_("统计期"),
        choices=list(PERIODS.items()),
        initial=PeriodKind.MONTH.value,
        required=False,
    )
    start = forms.DateField(label=_("起"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("止"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    territory = forms.TypedChoiceField(label=_("镇街"), coerce=int, required=False, empty_value=None)
    unit = forms.TypedChoiceField(label=_("主办单位"), coerce=int, required=False, empty_value=None)
    major = forms.ChoiceField(label=_("大类"), required=False)
    category = forms.TypedChoiceField(label=_("小类"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("全部"))]
        self.fields["territory"].choices = everything + selectors.territory_choices()  # type: ignore[attr-defined]
        self.fields["unit"].choices = everything + selectors.unit_choices()  # type: ignore[attr-defined]
        self.fields["major"].choices = everything + selectors.major_choices()  # type: ignore[attr-defined]
        groups: dict[str, list[tuple[int, str]]] = {}
        for pk, kind, major, name in Category.objects.order_by("kind", "code").values_list(
            "pk", "kind", "major_name", "name"
        ):
            groups.setdefault(f"{KINDS.get(kind, kind)} · {major}", []).append((pk, name))
        self.fields["category"].choices = everything + list(groups.items())  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == PeriodKind.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError(_("自定义统计期请填写起止日期。"))
            if abs((end - start).days) > MAX_CUSTOM_DAYS:
                raise forms.ValidationError(_("自定义统计期最长三年。"))
        return data

    def get_period(self, today: dt.date) -> Period:
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("period") or PeriodKind.MONTH.value
        if kind == PeriodKind.CUSTOM:
            return period_for(kind, today, data["start"], data["end"])
        return period_for(kind, today)

    def get_filters(self) -> Filters:
        if not self.is_valid():
            return Filters()
        data = self.cleaned_data
        kind = major = None
        if data.get("major"):
            kind, _sep, major = data["major"].partition(":")
        return Filters(
            territory_id=data.get("territory"),
            unit_id=data.get("unit"),
            kind=kind or None,
            major_code=major or None,
            category_id=data.get("category"),
        )
