"""Interview pages, under /p/<project slug>/interviews/."""

from django.urls import path

from interviews import views

app_name = "interviews"
urlpatterns = [
    path("interviews/", views.interview_list, name="list"),
    path("interviews/upload/", views.upload, name="upload"),
    path("interviews/import/", views.import_sheet, name="import"),
    path("interviews/export.<str:fmt>", views.export_sheet, name="export"),
    path("interviews/review/", views.review, name="review"),
    path("interviews/unmapped/", views.unmapped, name="unmapped"),
    path("interviews/suggest/", views.suggest, name="suggest"),
    path("interviews/pieces/<int:piece_id>/", views.piece, name="piece"),
    path("interviews/final-tags/<int:final_tag_id>/", views.final_tag, name="final_tag"),
    path("interviews/<int:number>/", views.detail, name="detail"),
    path("interviews/<int:number>/details/", views.details, name="details"),
    path("interviews/<int:number>/coders/", views.coders, name="coders"),
    path("interviews/<int:number>/fragments/", views.fragments, name="fragments"),
    path("interviews/<int:number>/fragments/<int:fragment_id>/", views.fragment, name="fragment"),
    path("interviews/<int:number>/done/", views.done, name="done"),
    path("interviews/<int:number>/moderate/", views.moderate, name="moderate"),
    path("interviews/<int:number>/transcript.<str:fmt>", views.transcript, name="transcript"),
    path(
        "interviews/<int:number>/paragraphs/<int:paragraph_id>/speaker/",
        views.paragraph_speaker,
        name="paragraph_speaker",
    ),
]
