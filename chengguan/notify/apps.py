from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "chengguan.notify"
    label = "notify"
    verbose_name = _("消息通知")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chengguan.notify import checks  # noqa: F401  (registers the notifier check)
