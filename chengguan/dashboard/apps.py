from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "chengguan.dashboard"
    verbose_name = _("指挥大屏与统计")
