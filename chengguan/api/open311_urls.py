"""Open311 GeoReport v2 under /open311/v2/ (format by suffix: .xml or .json)."""

from django.urls import re_path

from chengguan.api import open311_views as v

FMT = r"\.(?P<format>xml|json)$"

app_name = "open311"
urlpatterns = [
    re_path(r"^discovery" + FMT, v.DiscoveryView.as_view(), name="discovery"),
    re_path(r"^services" + FMT, v.ServicesView.as_view(), name="services"),
    re_path(r"^services/(?P<code>[^/]{1,40})" + FMT, v.ServiceDefinitionView.as_view(), name="service"),
    re_path(r"^requests" + FMT, v.requests_endpoint, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]{1,40})" + FMT, v.RequestView.as_view(), name="request"),
    re_path(r"^tokens/(?P<token>[^/]{1,60})" + FMT, v.TokenView.as_view(), name="token"),
    re_path(r"^servicerequestupdates" + FMT, v.UpdatesView.as_view(), name="updates"),
    re_path(r"^(?P<rest>(?s:.*))$", v.not_found),
]
