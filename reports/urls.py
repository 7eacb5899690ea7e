from django.urls import path

from reports import views
from reports.exchange import views as exchange_views

app_name = "reports"
urlpatterns = [
    path("stats/", views.stats, name="stats"),
    path("agreement/", views.agreement, name="agreement"),
    path("agreement/rounds/<int:number>/alpha/", views.round_alpha, name="round_alpha"),
    path("exchange/", exchange_views.exchange_page, name="exchange"),
    path("interviews/tag-summary/", views.tag_summary_page, name="tag_summary"),
    path("survey/participants/", views.participants, name="participants"),
    path("survey/<int:survey_id>/table2/", views.survey_table2, name="survey_table2"),
    path("survey/<int:survey_id>/table2.<str:fmt>", views.survey_table2_export, name="survey_table2_export"),
    path("exchange/download.<str:fmt>", exchange_views.exchange_download, name="exchange_download"),
]
