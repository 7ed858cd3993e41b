from django.urls import path

from chengguan.web import auth_views, case_views, public_views, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Logins
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("start/", auth_views.start, name="start"),
    # Inspector (mobile first)
    path("m/", case_views.inspector, name="inspector"),
    path("m/report/", case_views.inspector_report, name="inspector-report"),
    path("categories/options/", case_views.category_options, name="category-options"),
    # Command centre
    path("command/", case_views.command, name="command"),
    path("command/dispatch/", case_views.bulk_dispatch, name="bulk-dispatch"),
    # Unit inbox
    path("unit/", case_views.unit, name="unit"),
    # One case
    path("cases/<str:code>/", case_views.case_detail, name="case"),
    path("cases/<str:code>/actions/", case_views.case_actions, name="case-actions"),
    path("cases/<str:code>/act/", case_views.case_transition, name="case-act"),
    path("photos/<str:token>/", case_views.photo, name="photo"),
    # Citizens
    path("public/", public_views.public, name="public"),
    path("public/complain/", public_views.complain, name="public-complain"),
    path("public/done/", public_views.complain_done, name="public-done"),
    path("public/follow/", public_views.follow, name="public-follow"),
    path("public/rate/", public_views.rate, name="public-rate"),
    path("public/photos/<str:token>/", public_views.public_photo, name="public-photo"),
]
