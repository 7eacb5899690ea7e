from django.urls import path

from . import views

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
]
