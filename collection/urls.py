from django.urls import path

from collection import views

app_name = "collection"
urlpatterns = [
    path("vocabulary/", views.vocabulary, name="vocabulary"),
    path("vocabulary/workflow/", views.vocabulary_workflow, name="vocabulary_workflow"),
    path("vocabulary/batch/<int:number>/", views.vocabulary_batch, name="vocabulary_batch"),
    path("vocabulary/meeting/", views.vocabulary_meeting, name="vocabulary_meeting"),
    path("vocabulary/words.csv", views.vocabulary_words_export, name="vocabulary_words"),
    path("repositories/", views.repositories, name="repositories"),
    path("import/artefacts/", views.import_artefacts, name="import_artefacts"),
    path("import/artefacts/<int:job_id>/", views.import_artefacts_mapping, name="import_artefacts_mapping"),
]
