"""Survey API routes: /api/projects/<slug>/surveys/… (leads, moderators) and the respondents'
token routes /api/surveys/<token>/… and /api/responses/<token>/… (no account)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from validation import api

router = SimpleRouter()
router.register("surveys", api.SurveyViewSet, basename="survey")

urlpatterns = [
    path("projects/<slug:project_slug>/", include(router.urls)),
    path("surveys/<str:token>/", api.PublicSurvey.as_view(), name="survey-public"),
    path("surveys/<str:token>/responses/", api.PublicResponseStart.as_view(), name="survey-public-start"),
    path("responses/<str:token>/", api.PublicResponse.as_view(), name="survey-response"),
    path("responses/<str:token>/submit/", api.PublicResponseSubmit.as_view(), name="survey-response-submit"),
]
