from django.urls import path

from taxonomy import suggestion_views, views

app_name = "taxonomy"
urlpatterns = [
    path("taxonomy/", views.tree, name="tree"),
    path("taxonomy/codebook/", views.codebook, name="codebook"),
    path("taxonomy/export.<str:fmt>", views.export, name="export"),
    path("taxonomy/nodes/new/", views.node_create, name="node_create"),
    path("taxonomy/nodes/<int:node_id>/", views.node_panel, name="node"),
    path("taxonomy/nodes/<int:node_id>/edit/", views.node_update, name="node_update"),
    path("taxonomy/nodes/<int:node_id>/move/", views.node_move, name="node_move"),
    path("taxonomy/nodes/<int:node_id>/merge/", views.node_merge, name="node_merge"),
    path("taxonomy/nodes/<int:node_id>/delete/", views.node_delete, name="node_delete"),
    path("taxonomy/leaves/<int:leaf_id>/", views.leaf_panel, name="leaf"),
    path("taxonomy/leaves/<int:leaf_id>/move/", views.leaf_move, name="leaf_move"),
    path("taxonomy/leaves/<int:leaf_id>/detach/", views.leaf_detach, name="leaf_detach"),
    path("taxonomy/attach/", views.attach, name="attach"),
    path("taxonomy/undo/", views.undo, name="undo"),
    path("taxonomy/rounds-from-evidence/", views.rounds_from_evidence, name="rounds_from_evidence"),
    path("taxonomy/import/", views.import_file, name="import"),
    path("taxonomy/history/", views.history, name="history"),
    path("taxonomy/comparisons/", views.comparisons, name="comparisons"),
    path("import/round/", views.import_round, name="import_round"),
    path("taxonomy/merges/", suggestion_views.merges, name="merges"),
    path("taxonomy/merges/accept/", suggestion_views.merge_accept, name="merge_accept"),
    path("taxonomy/merges/reject/", suggestion_views.merge_reject, name="merge_reject"),
    path("taxonomy/merges/undo/", suggestion_views.merge_undo, name="merge_undo"),
    path("taxonomy/suggest/", suggestion_views.leaf_suggestions, name="suggest"),
    path("taxonomy/review/<int:number>/", suggestion_views.round_review, name="round_review"),
    path("taxonomy/comparisons/<int:comparison_id>/", views.comparison, name="comparison"),
    path(
        "taxonomy/comparisons/<int:comparison_id>/classes/<int:class_id>/",
        views.comparison_class,
        name="comparison_class",
    ),
]
