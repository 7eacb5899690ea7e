from django.urls import path

from reports import views
from reports.exchange import views as exchange_views

app_name = "reports"
urlpatterns = [
    path("stats/", views.stats, name="stats"),
    path("agreement/", views.agreement, name="agreement"),
    path("agreement/rounds/<int:number>/alpha/", views.round_alpha, name="round_alpha"),
    path("exchange/", exchange_views.exchange_page, name="exchange"),
    path("exchange/download.<str:fmt>", exchange_views.exchange_download, name="exchange_download"),
]
