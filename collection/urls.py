from django.urls import path

from collection import views

app_name = "collection"
urlpatterns = [
    path("vocabulary/", views.vocabulary, name="vocabulary"),
    path("import/artefacts/", views.import_artefacts, name="import_artefacts"),
    path("import/artefacts/<int:job_id>/", views.import_artefacts_mapping, name="import_artefacts_mapping"),
]
