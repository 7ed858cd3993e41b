"""A notifier path that does not import is a configuration error worth a startup message."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.utils.module_loading import import_string


@checks.register()
def notifiers_importable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from chengguan.notify.services import configured_paths

    errors: list[checks.CheckMessage] = []
    for path in configured_paths():
        try:
            notifier = import_string(path)
        except ImportError as exc:
            errors.append(
                checks.Error(f"CHENGGUAN_NOTIFIERS 中的 {path} 无法导入：{exc}", id="chengguan.notify.E001")
            )
            continue
        if not callable(getattr(notifier, "send", None)):
            errors.append(
                checks.Error(f"CHENGGUAN_NOTIFIERS 中的 {path} 没有 send() 方法", id="chengguan.notify.E002")
            )
    return errors
