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

        from chengguan.api.auth import keys_changed
        from chengguan.api.models import ApiKey

        post_save.connect(keys_changed, sender=ApiKey, dispatch_uid="chengguan.api.forget_keys")
        # A key acts as its account: disabling the account must stop the key everywhere too.
        from django.contrib.auth import get_user_model

        post_save.connect(
            keys_changed, sender=get_user_model(), dispatch_uid="chengguan.api.forget_keys.user"
        )

        from django.db.models.signals import post_delete

        from chengguan.api.models import ServiceAttribute
        from chengguan.api.queries import forget_catalogue
        from chengguan.catalog.models import Category

        for model in (Category, ServiceAttribute):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_catalogue, sender=model, dispatch_uid=f"chengguan.api.catalogue.{model.__name__}"
                )

        # Open311 rows remembered in the shared cache: renewed tokens on every case change and
        # every edit of the names they show (chengguan.api.queries).
        from chengguan.api.queries import case_changed, registries_changed
        from chengguan.cases.models import Case, CaseEvent
        from chengguan.org.models import OrgUnit

        for changed in (Case, CaseEvent):
            post_save.connect(
                case_changed, sender=changed, dispatch_uid=f"chengguan.api.rows.{changed.__name__}"
            )
        for registry in (Category, OrgUnit):
            for signal in (post_save, post_delete):
                signal.connect(
                    registries_changed,
                    sender=registry,
                    dispatch_uid=f"chengguan.api.registries.{registry.__name__}",
                )
