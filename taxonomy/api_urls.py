"""Taxonomy API routes, under /api/projects/<slug>/taxonomy/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from taxonomy import api, suggestion_api

router = SimpleRouter()
router.register("taxonomy/nodes", api.NodeViewSet, basename="taxonomy-node")
router.register("taxonomy/leaves", api.LeafViewSet, basename="taxonomy-leaf")
router.register("taxonomy/changes", api.ChangeViewSet, basename="taxonomy-change")
router.register("taxonomy/suggestions", suggestion_api.SuggestionViewSet, basename="taxonomy-suggestion")
router.register("taxonomy/comparisons", api.ComparisonViewSet, basename="taxonomy-comparison")
router.register("taxonomy", api.TaxonomyViewSet, basename="taxonomy")

urlpatterns = [
    path("projects/<slug:project_slug>/codebook/", api.CodebookView.as_view(), name="codebook"),
    path("projects/<slug:project_slug>/", include(router.urls)),
]
