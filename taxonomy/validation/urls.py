"""Survey pages, under /survey/.

Project pages come first (`<slug>/…`); the respondents' links are `t/<survey token>/` (the
shareable link) and `r/<response token>/` (one respondent's own page). Tokens are 32 random
URL-safe characters, so they never look like a page of a project named "t" or "r"."""

from django.urls import path

from . import views

app_name = "validation"
urlpatterns = [
    path("<slug:slug>/", views.survey_list, name="list"),
    path("<slug:slug>/new/", views.survey_create, name="create"),
    path("<slug:slug>/<int:survey_id>/", views.survey_detail, name="survey"),
    path("<slug:slug>/<int:survey_id>/status/", views.survey_status, name="status"),
    path("<slug:slug>/<int:survey_id>/delete/", views.survey_delete, name="delete"),
    path("<slug:slug>/<int:survey_id>/table2.<str:fmt>", views.survey_export, name="export"),
    path("t/<str:token>/", views.take, name="take"),
    path("r/<str:token>/", views.respond, name="respond"),
]
