from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "chengguan.catalog"
    verbose_name = _("部件事项目录")
