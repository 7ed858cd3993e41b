from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "chengguan.api"
    verbose_name = _("开放接口")

    def ready(self) -> None:
        # The OpenAPI description of the key authentication, and the webhook hook on case events.
        from chengguan.api import schema, webhooks  # noqa: F401

        webhooks.connect()
