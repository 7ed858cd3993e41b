"""The responsibility matrix: which unit handles which category where.

A rule names a category and a place (a specific grid, a town/subdistrict, or the whole
district when both are blank) and the lead unit with its co-handlers. The most specific rule
wins: grid over territory over district-wide default.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.catalog.models import Category
from chengguan.core.models import TimeStampedModel
from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit


class RoutingRule(TimeStampedModel):
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    territory = models.ForeignKey(
        OrgUnit,
        verbose_name=_("镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rules_here",
        limit_choices_to={"kind__in": TERRITORIAL_KINDS},
        help_text=_("留空表示全区默认"),
    )
    grid_code = models.CharField(
        _("网格编码"), max_length=32, blank=True, db_index=True, help_text=_("只对该网格生效，优先于镇街规则")
    )
    lead_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="routing_lead"
    )
    co_handlers = models.ManyToManyField(
        OrgUnit, verbose_name=_("协办单位"), blank=True, related_name="routing_co"
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("在用"), default=True)

    class Meta:
        ordering = ["category", "territory", "grid_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "territory", "grid_code"], name="routing_rule_unique_place"
            ),
            models.UniqueConstraint(
                fields=["category"],
                condition=models.Q(territory__isnull=True, grid_code=""),
                name="routing_rule_one_default",
            ),
        ]
        verbose_name = _("派遣规则")
        verbose_name_plural = _("派遣规则（责任矩阵）")

    def __str__(self) -> str:
        return f"{self.category} @ {self.place_label} → {self.lead_unit}"

    @property
    def place_label(self) -> str:
        if self.grid_code:
            return f"网格 {self.grid_code}"
        if self.territory_id:
            return str(self.territory)
        return "全区默认"

    def clean(self) -> None:
        if self.territory_id and self.territory and not self.territory.is_territory:
            raise ValidationError({"territory": _("规则的镇街必须是镇或街道。")})
