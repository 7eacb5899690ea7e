"""API routes: /api/projects/ and everything of one project under /api/projects/<slug>/."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from . import views, vocabulary

app_name = "api"

root = DefaultRouter()
root.register("projects", views.ProjectViewSet, basename="project")

project = SimpleRouter()
project.register("members", views.MemberViewSet, basename="member")
project.register("artefacts", views.ArtefactViewSet, basename="artefact")
project.register("rounds", views.RoundViewSet, basename="round")
project.register("assignments", views.AssignmentViewSet, basename="assignment")
project.register("labels", views.LabelViewSet, basename="label")
project.register("conflicts", views.ConflictViewSet, basename="conflict")
project.register("vocabulary", vocabulary.VocabularyTermViewSet, basename="vocabulary-term")

urlpatterns = [
    path("projects/<slug:project_slug>/", include(project.urls)),
    *root.urls,
]
