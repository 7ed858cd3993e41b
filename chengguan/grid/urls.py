from django.urls import path

from chengguan.grid import views

app_name = "grid"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("cells.json", views.cells_json, name="cells"),
    path("cells/<int:pk>/", views.cell_panel, name="cell"),
    path("components.json", views.components_json, name="components"),
    path("layers/", views.layer_list, name="layers"),
    path("layers/<int:pk>/", views.layer_report, name="layer"),
    path("coverage/", views.coverage, name="coverage"),
]
