"""API routes of the interviews, under /api/projects/<slug>/interviews/."""

from django.urls import path

from interviews import api

P = "projects/<slug:project_slug>/interviews/"

urlpatterns = [
    path(P, api.InterviewList.as_view(), name="interview-list"),
    path(P + "stats/", api.Stats.as_view(), name="interview-stats"),
    path(P + "suggestions/", api.Suggestions.as_view(), name="interview-suggestions"),
    path(P + "import/", api.SheetImport.as_view(), name="interview-import"),
    path(P + "export/", api.SheetExport.as_view(), name="interview-export"),
    path(P + "unmapped/", api.Unmapped.as_view(), name="interview-unmapped"),
    path(P + "final-tags/", api.FinalTags.as_view(), name="interview-final-tags"),
    path(P + "final-tags/place/", api.Place.as_view(), name="interview-final-tags-place"),
    path(P + "final-tags/<int:final_tag_id>/", api.FinalTagDetail.as_view(), name="interview-final-tag"),
    path(P + "pieces/<int:piece_id>/keep/", api.PieceAction.as_view(verb="keep"), name="interview-piece-keep"),
    path(P + "pieces/<int:piece_id>/discard/", api.PieceAction.as_view(verb="discard"), name="interview-piece-discard"),
    path(P + "<int:number>/", api.InterviewDetail.as_view(), name="interview-detail"),
    path(P + "<int:number>/coders/", api.Coders.as_view(), name="interview-coders"),
    path(P + "<int:number>/fragments/", api.Fragments.as_view(), name="interview-fragments"),
    path(P + "<int:number>/fragments/<int:fragment_id>/", api.FragmentDetail.as_view(), name="interview-fragment"),
    path(P + "<int:number>/done/", api.Done.as_view(), name="interview-done"),
    path(P + "<int:number>/pieces/", api.Pieces.as_view(), name="interview-pieces"),
    path(P + "<int:number>/transcript/", api.Transcript.as_view(), name="interview-transcript"),
]
