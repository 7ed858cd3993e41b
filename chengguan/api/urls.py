"""REST API under /api/v1/."""

from django.urls import path, re_path

from chengguan.api import rest_views as v

app_name = "api"
urlpatterns = [
    path("categories/", v.CategoriesView.as_view(), name="categories"),
    path("units/", v.UnitsView.as_view(), name="units"),
    path("grid/layer/", v.GridLayerView.as_view(), name="grid-layer"),
    path("grid/cells/", v.GridCellsView.as_view(), name="grid-cells"),
    path("grid/locate/", v.LocateView.as_view(), name="grid-locate"),
    path("cases/", v.CasesView.as_view(), name="cases"),
    path("cases/<str:code>/", v.CaseView.as_view(), name="case"),
    path("cases/<str:code>/events/", v.CaseEventsView.as_view(), name="case-events"),
    path("cases/<str:code>/transitions/", v.CaseTransitionsView.as_view(), name="case-transitions"),
    path("subscriptions/", v.SubscriptionsView.as_view(), name="subscriptions"),
    path("subscriptions/<int:pk>/", v.SubscriptionView.as_view(), name="subscription"),
    path("subscriptions/<int:pk>/deliveries/", v.DeliveriesView.as_view(), name="deliveries"),
    # Anything else under /api/v1/ answers in the API's error format, never an HTML page.
    re_path(r"^(?P<rest>(?s:.*))$", v.not_found),
]
