from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("stats/", views.stats, name="stats"),
]
