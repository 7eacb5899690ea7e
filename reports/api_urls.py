"""Report API routes, under /api/projects/<slug>/: agreement, whole-project backups, exchange with other tools."""

from django.urls import path

from reports import api
from reports.exchange import api as exchange_api

P = "projects/<slug:project_slug>/"

urlpatterns = [
    path("projects/<slug:project_slug>/agreement/", api.Agreement.as_view(), name="agreement-api"),
    path(P + "surveys/<int:survey_id>/results/", api.SurveyResults.as_view(), name="survey-results"),
    path(P + "backup/", exchange_api.Backup.as_view(), name="project-backup"),
    path(P + "backup/<int:job_id>/", exchange_api.BackupJob.as_view(), name="project-backup-job"),
    path(P + "backup/<int:job_id>/download/", exchange_api.BackupDownload.as_view(), name="project-backup-download"),
    path(P + "exchange/export/", exchange_api.ExchangeExport.as_view(), name="exchange-export"),
    path(P + "exchange/import/", exchange_api.ExchangeImport.as_view(), name="exchange-import"),
]
