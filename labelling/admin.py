from django.contrib import admin

from labelling.models import (
    Annotation,
    Assignment,
    Label,
    Round,
    RoundImport,
    RoundItem,
)


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "in_catalogue", "created_at"]
    list_filter = ["project", "in_catalogue"]
    search_fields = ["name", "normalised"]


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "name", "status", "source", "created_at"]
    list_filter = ["project", "status", "source"]
    filter_horizontal = ["evaluators"]


@admin.register(RoundItem)
class RoundItemAdmin(admin.ModelAdmin):
    list_display = ["id", "round", "artefact", "status", "had_disagreement", "is_conflict", "final_label"]
    list_filter = ["round__project", "round", "status", "had_disagreement", "is_conflict"]
    raw_id_fields = ["artefact", "final_label", "taxonomy_label", "leaf", "resolved_by"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "round", "item", "evaluator", "order", "completed_at"]
    list_filter = ["round__project", "round"]
    raw_id_fields = ["item", "evaluator"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "assignment", "label", "verdict", "updated_at"]
    list_filter = ["verdict"]
    raw_id_fields = ["assignment", "label"]


# --- round imports -------------------------------------------------------------------------------


@admin.register(RoundImport)
class RoundImportAdmin(admin.ModelAdmin):
    list_display = ["round", "filename", "recorded", "imported_at", "changed_at"]
    list_filter = ["round__project"]
    raw_id_fields = ["round", "imported_by"]


# --- relevance vocabulary -------------------------------------------------------------------------
