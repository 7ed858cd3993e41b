from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "chengguan.routing"
    verbose_name = _("派遣路由")
