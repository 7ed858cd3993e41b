"""The browsable API documentation (Swagger UI) under the site's content security policy:
scripts and styles from our own static files, the page's set-up script as its own request."""

from __future__ import annotations

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocsView(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
