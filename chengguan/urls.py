from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from chengguan.api.docs_views import ApiDocsView

admin.site.site_header = "城管 Chengguan"
admin.site.site_title = "城管 Chengguan"
admin.site.index_title = "综合管理"

# A lost database met outside any view is a 503 too (chengguan.core.middleware).
handler500 = "chengguan.core.middleware.server_error"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("chengguan.api.urls")),
    path("open311/v2/", include("chengguan.api.open311_urls")),
    path("grid/", include("chengguan.grid.urls")),
    path("assessment/", include("chengguan.assessment.urls")),
    path("", include("chengguan.dashboard.urls")),
    path("", include("chengguan.web.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
