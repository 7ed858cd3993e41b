"""OpenAPI wiring: the key scheme, and a document limited to the REST API."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PREFIX = "/api/v1/"


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "chengguan.api.auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": "接入方密钥（管理后台「接口密钥」发放，只显示一次）；"
            "也可用 Authorization: Api-Key <key>",
        }


def only_rest_api(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Keep /api/v1/ operations (not the catch-all), drop pages and the Open311 views."""
    return [e for e in endpoints if e[0].startswith(PREFIX) and "{rest}" not in e[0]]
