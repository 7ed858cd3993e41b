from django.contrib import admin

from chengguan.routing.models import RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "place_label", "lead_unit", "active", "updated_at")
    list_filter = ("active", "category__kind", "category__major_name", "territory", "lead_unit__kind")
    search_fields = ("category__code", "category__name", "lead_unit__name", "grid_code", "note")
    autocomplete_fields = ("category", "territory", "lead_unit", "co_handlers")
    list_select_related = ("category", "territory", "lead_unit")
