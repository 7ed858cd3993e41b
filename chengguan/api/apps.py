from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "chengguan.api"
    verbose_name = _("开放接口")

    def ready(self) -> None:
        # The OpenAPI description of the key authentication, and the webhook hook on case events.
        from chengguan.api import schema, webhooks  # noqa: F401

        webhooks.connect()
        from django.db.models.signals import post_save

        from chengguan.api.auth import forget_keys
        from chengguan.api.models import ApiKey

        post_save.connect(forget_keys, sender=ApiKey, dispatch_uid="chengguan.api.forget_keys")

        from django.db.models.signals import post_delete

        from chengguan.api.models import ServiceAttribute
        from chengguan.api.queries import forget_catalogue
        from chengguan.catalog.models import Category

        for model in (Category, ServiceAttribute):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_catalogue, sender=model, dispatch_uid=f"chengguan.api.catalogue.{model.__name__}"
                )
