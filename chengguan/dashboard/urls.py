from django.urls import path

from chengguan.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("dashboard/", views.dashboard, name="index"),
    path("dashboard/hotspots.json", views.hotspots, name="hotspots"),
    path("dashboard/export/<slug:table>.xlsx", views.export, name="export"),
    path("bigscreen/", views.bigscreen, name="bigscreen"),
    path("bigscreen/data.json", views.bigscreen_data, name="bigscreen-data"),
]
