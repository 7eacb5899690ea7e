from django.urls import path

from . import views

app_name = "labelling"
urlpatterns = [
    path("", views.home, name="home"),
]
