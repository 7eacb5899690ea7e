from django.urls import path

from . import views

app_name = "taxonomy"
urlpatterns = [
    path("<slug:slug>/", views.tree, name="tree"),
    path("<slug:slug>/export.<str:fmt>", views.export, name="export"),
    path("<slug:slug>/nodes/new/", views.node_create, name="node_create"),
    path("<slug:slug>/nodes/<int:node_id>/", views.node_panel, name="node"),
    path("<slug:slug>/nodes/<int:node_id>/edit/", views.node_update, name="node_update"),
    path("<slug:slug>/nodes/<int:node_id>/move/", views.node_move, name="node_move"),
    path("<slug:slug>/nodes/<int:node_id>/merge/", views.node_merge, name="node_merge"),
    path("<slug:slug>/nodes/<int:node_id>/delete/", views.node_delete, name="node_delete"),
    path("<slug:slug>/leaves/<int:leaf_id>/", views.leaf_panel, name="leaf"),
    path("<slug:slug>/leaves/<int:leaf_id>/move/", views.leaf_move, name="leaf_move"),
    path("<slug:slug>/leaves/<int:leaf_id>/detach/", views.leaf_detach, name="leaf_detach"),
    path("<slug:slug>/attach/", views.attach, name="attach"),
    path("<slug:slug>/undo/", views.undo, name="undo"),
    path("<slug:slug>/rounds-from-evidence/", views.rounds_from_evidence, name="rounds_from_evidence"),
    path("<slug:slug>/import/", views.import_file, name="import"),
    path("<slug:slug>/history/", views.history, name="history"),
    path("<slug:slug>/comparisons/", views.comparisons, name="comparisons"),
    path("<slug:slug>/comparisons/<int:comparison_id>/", views.comparison, name="comparison"),
    path(
        "<slug:slug>/comparisons/<int:comparison_id>/classes/<int:class_id>/",
        views.comparison_class,
        name="comparison_class",
    ),
]
