from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkCalendarConfig(AppConfig):
    name = "chengguan.calendar"
    # "calendar" would clash with the standard library module's name in app registries.
    label = "workcal"
    verbose_name = _("工作日历")

    def ready(self) -> None:
        from chengguan.calendar import checks  # noqa: F401  (registers the settings check)
