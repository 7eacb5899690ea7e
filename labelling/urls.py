from django.urls import path

from . import io_views, views, vocabulary_views

app_name = "labelling"
urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.project, name="project"),
    path("p/<slug:slug>/queue/", views.queue, name="queue"),
    path("p/<slug:slug>/a/<int:assignment_id>/", views.assignment, name="assignment"),
    path("p/<slug:slug>/mine/", views.my_annotations, name="my_annotations"),
    path("p/<slug:slug>/suggest/", views.label_suggestions, name="label_suggestions"),
    path("p/<slug:slug>/rounds/", views.rounds, name="rounds"),
    path("p/<slug:slug>/rounds/<int:number>/", views.round_detail, name="round"),
    path("p/<slug:slug>/conflicts/", views.conflicts, name="conflicts"),
    path("p/<slug:slug>/conflicts/<int:item_id>/", views.conflict, name="conflict"),
    path("p/<slug:slug>/labels/", views.labels, name="labels"),
    path("p/<slug:slug>/artefacts/", views.artefacts, name="artefacts"),
    # round spreadsheets in and out, Table 1, job progress (labelling/io_views.py)
    path("p/<slug:slug>/import/artefacts/", io_views.import_artefacts, name="import_artefacts"),
    path(
        "p/<slug:slug>/import/artefacts/<int:job_id>/",
        io_views.import_artefacts_mapping,
        name="import_artefacts_mapping",
    ),
    path("p/<slug:slug>/import/round/", io_views.import_round, name="import_round"),
    path("p/<slug:slug>/stats/", io_views.stats, name="stats"),
    path("p/<slug:slug>/rounds/<int:number>/export/", io_views.export_round, name="export_round"),
    path("p/<slug:slug>/export/annotations/", io_views.export_annotations, name="export_annotations"),
    path("p/<slug:slug>/jobs/<int:job_id>/", io_views.task_progress, name="task_progress"),
    path("p/<slug:slug>/jobs/<int:job_id>/download/", io_views.job_download, name="job_download"),
    # relevance vocabulary (labelling/vocabulary_views.py)
    path("p/<slug:slug>/vocabulary/", vocabulary_views.vocabulary, name="vocabulary"),
]
