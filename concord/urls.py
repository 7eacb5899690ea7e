"""Every page of a project lives under /p/<slug>/<area>/…; the API under /api/.

Pages that lived elsewhere before (/taxonomy/<slug>/…, /interviews/<slug>/…, /survey/<slug>/…)
redirect to their place (301, query string kept)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.api.views import TokenView
from core.views import healthz, legacy_redirect
from validation.urls import public_urlpatterns as survey_public

project_pages = [
    path("", include("labelling.urls")),
    path("", include("collection.urls")),
    path("", include("taxonomy.urls")),
    path("", include("interviews.urls")),
    path("", include("validation.urls")),
    path("", include("reports.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(extra_context={"oidc_enabled": settings.OIDC_ENABLED}),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # password change and reset by e-mail (templates/registration/)
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/token/", TokenView.as_view(), name="api-token"),
    path("api/", include("concord.api_urls")),
    path("api/", include("taxonomy.api_urls")),
    path("api/", include("interviews.api_urls")),
    path("api/", include("validation.api_urls")),
    path("api/", include("reports.api_urls")),
    path("survey/", include((survey_public, "survey"))),
    path("p/<slug:slug>/", include(project_pages)),
    re_path(r"^(?P<area>taxonomy|interviews)/(?P<slug>[-a-zA-Z0-9_]+)/(?P<rest>.*)$", legacy_redirect),
    re_path(r"^survey/(?P<slug>[-a-zA-Z0-9_]+)/(?P<rest>.*)$", legacy_redirect, {"area": "survey"}),
    path("", include("core.urls")),
]

if settings.OIDC_ENABLED:  # single sign-on: /oidc/authenticate/ and /oidc/callback/
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
