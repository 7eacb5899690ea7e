from django.urls import path

from labelling import io_views, views

app_name = "labelling"
urlpatterns = [
    path("", views.project, name="project"),
    path("queue/", views.queue, name="queue"),
    path("a/<int:assignment_id>/", views.assignment, name="assignment"),
    path("mine/", views.my_annotations, name="my_annotations"),
    path("suggest/", views.label_suggestions, name="label_suggestions"),
    path("rounds/", views.rounds, name="rounds"),
    path("rounds/<int:number>/", views.round_detail, name="round"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:item_id>/", views.conflict, name="conflict"),
    path("conflicts/<int:item_id>/discussion/", views.discussion, name="discussion"),
    path("labels/", views.labels, name="labels"),
    path("artefacts/", views.artefacts, name="artefacts"),
    # exports and job progress (labelling/io_views.py)
    path("rounds/<int:number>/export/", io_views.export_round, name="export_round"),
    path("export/annotations/", io_views.export_annotations, name="export_annotations"),
    path("jobs/<int:job_id>/", io_views.task_progress, name="task_progress"),
    path("jobs/<int:job_id>/download/", io_views.job_download, name="job_download"),
]
