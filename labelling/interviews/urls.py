"""Interview pages, under /interviews/<project slug>/."""

from django.urls import path

from . import views

app_name = "interviews"
urlpatterns = [
    path("<slug:slug>/", views.interview_list, name="list"),
    path("<slug:slug>/upload/", views.upload, name="upload"),
    path("<slug:slug>/import/", views.import_sheet, name="import"),
    path("<slug:slug>/export.<str:fmt>", views.export_sheet, name="export"),
    path("<slug:slug>/review/", views.review, name="review"),
    path("<slug:slug>/unmapped/", views.unmapped, name="unmapped"),
    path("<slug:slug>/suggest/", views.suggest, name="suggest"),
    path("<slug:slug>/pieces/<int:piece_id>/", views.piece, name="piece"),
    path("<slug:slug>/final-tags/<int:final_tag_id>/", views.final_tag, name="final_tag"),
    path("<slug:slug>/<int:number>/", views.detail, name="detail"),
    path("<slug:slug>/<int:number>/details/", views.details, name="details"),
    path("<slug:slug>/<int:number>/coders/", views.coders, name="coders"),
    path("<slug:slug>/<int:number>/fragments/", views.fragments, name="fragments"),
    path("<slug:slug>/<int:number>/fragments/<int:fragment_id>/", views.fragment, name="fragment"),
    path("<slug:slug>/<int:number>/done/", views.done, name="done"),
    path("<slug:slug>/<int:number>/moderate/", views.moderate, name="moderate"),
    path("<slug:slug>/<int:number>/transcript.<str:fmt>", views.transcript, name="transcript"),
    path(
        "<slug:slug>/<int:number>/paragraphs/<int:paragraph_id>/speaker/",
        views.paragraph_speaker,
        name="paragraph_speaker",
    ),
]
