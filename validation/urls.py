"""Survey pages: a project's surveys under /p/<slug>/survey/ (`urlpatterns`), the respondents' links
under /survey/ (`public_urlpatterns`): `t/<survey token>/` (the shareable link) and `r/<response token>/`
(one respondent's own page). Tokens are 32 random URL-safe characters."""

from django.urls import path

from validation import views

app_name = "validation"
urlpatterns = [
    path("survey/", views.survey_list, name="list"),
    path("survey/new/", views.survey_create, name="create"),
    path("survey/import/", views.survey_import, name="import"),
    path("survey/import/<int:job_id>/", views.survey_import_preview, name="import_preview"),
    path("survey/<int:survey_id>/", views.survey_detail, name="survey"),
    path("survey/<int:survey_id>/status/", views.survey_status, name="status"),
    path("survey/<int:survey_id>/delete/", views.survey_delete, name="delete"),
]
public_urlpatterns = [
    path("t/<str:token>/", views.take, name="take"),
    path("r/<str:token>/", views.respond, name="respond"),
]
