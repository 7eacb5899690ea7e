from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("labelling.api.urls")),
    path("api/", include("taxonomy.api_urls")),
    path("api/", include("labelling.interviews.api_urls")),
    path("api/", include("taxonomy.validation.api_urls")),
    path("taxonomy/", include("taxonomy.urls")),
    path("survey/", include("taxonomy.validation.urls")),
    path("interviews/", include("labelling.interviews.urls")),
    path("", include("labelling.urls")),
]
