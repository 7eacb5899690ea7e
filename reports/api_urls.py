"""Report API routes, under /api/projects/<slug>/."""

from django.urls import path

from reports import api

urlpatterns = [
    path("projects/<slug:project_slug>/agreement/", api.Agreement.as_view(), name="agreement-api"),
]
