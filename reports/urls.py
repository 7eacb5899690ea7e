from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("stats/", views.stats, name="stats"),
    path("agreement/", views.agreement, name="agreement"),
    path("agreement/rounds/<int:number>/alpha/", views.round_alpha, name="round_alpha"),
]
