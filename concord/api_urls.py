"""API routes of projects, members, artefacts, the vocabulary and labelling: /api/projects/ and
everything of one project under /api/projects/<slug>/ (the taxonomy, interviews and surveys add
their own routes beside these)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from collection.api import VocabularyTermViewSet
from core.api.views import (
    AuthTokenView,
    InvitationViewSet,
    JobCancelView,
    JobDetailView,
    MemberViewSet,
    NotificationViewSet,
    ProjectViewSet,
)
from labelling.api import views

app_name = "api"

root = DefaultRouter()
root.register("projects", ProjectViewSet, basename="project")
root.register("notifications", NotificationViewSet, basename="notification")

project = SimpleRouter()
project.register("members", MemberViewSet, basename="member")
project.register("invitations", InvitationViewSet, basename="invitation")
project.register("artefacts", views.ArtefactViewSet, basename="artefact")
project.register("rounds", views.RoundViewSet, basename="round")
project.register("assignments", views.AssignmentViewSet, basename="assignment")
project.register("labels", views.LabelViewSet, basename="label")
project.register("conflicts", views.ConflictViewSet, basename="conflict")
project.register("vocabulary", VocabularyTermViewSet, basename="vocabulary-term")

urlpatterns = [
    path("projects/<slug:project_slug>/jobs/<int:job_id>/", JobDetailView.as_view(), name="job-detail"),
    path("projects/<slug:project_slug>/jobs/<int:job_id>/cancel/", JobCancelView.as_view(), name="job-cancel"),
    path("auth/token/", AuthTokenView.as_view(), name="auth-token"),
    path(
        "projects/<slug:project_slug>/conflicts/<int:item_id>/discussion/",
        views.DiscussionView.as_view(),
        name="discussion",
    ),
    path("projects/<slug:project_slug>/", include(project.urls)),
    *root.urls,
]
