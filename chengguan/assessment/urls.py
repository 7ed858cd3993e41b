from django.urls import path

from chengguan.assessment import inspection_views, views

app_name = "assessment"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/new", views.run_create, name="run_create"),
    path("runs/<int:run_id>/", views.run_view, name="run"),
    path("runs/<int:run_id>/publish", views.run_publish, name="publish"),
    path("runs/<int:run_id>/report.xlsx", views.report_xlsx, name="xlsx"),
    path("runs/<int:run_id>/report.pdf", views.report_pdf, name="pdf"),
    path("results/<int:result_id>/", views.result_view, name="result"),
    path("results/<int:result_id>/indicators/<slug:code>/", views.indicator_view, name="indicator"),
    path("lines/<int:line_id>/", views.line_view, name="line"),
    path("measures/", views.measure_list, name="measures"),
    path("measures/<int:measure_id>/follow-up", views.measure_follow_up, name="follow_up"),
    path("inspections/", inspection_views.inspection_list, name="inspections"),
    path("inspections/new", inspection_views.inspection_create, name="inspection_create"),
    path("inspections/<int:inspection_id>/", inspection_views.inspection_view, name="inspection"),
    path(
        "inspections/<int:inspection_id>/findings/new",
        inspection_views.finding_create,
        name="finding_create",
    ),
    path("findings/<int:finding_id>/", inspection_views.finding_view, name="finding"),
    path("findings/<int:finding_id>/follow-up", inspection_views.finding_follow_up, name="finding_follow_up"),
    path("photos/<str:token>", inspection_views.finding_photo, name="photo"),
]
