from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("p/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("projects/new/", views.project_new, name="project_new"),
    path("p/<slug:slug>/members/", views.members, name="members"),
    path("invite/<str:token>/", views.invite, name="invite"),
    path("accounts/tokens/", views.tokens, name="tokens"),
    path("accounts/settings/", views.account, name="account"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
