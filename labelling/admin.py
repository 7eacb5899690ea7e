from django.contrib import admin

from .models import Annotation, Artefact, Assignment, Label, Membership, Project, Round, RoundItem


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "max_evaluators_per_artefact", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "is_lead", "is_moderator", "is_evaluator", "is_active", "external_id"]
    list_filter = ["project", "is_lead", "is_moderator", "is_evaluator", "is_active"]
    raw_id_fields = ["user"]


@admin.register(Artefact)
class ArtefactAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "framework", "title", "url"]
    list_filter = ["project", "kind", "framework"]
    search_fields = ["title", "url", "body"]


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


# --- round imports and jobs (round spreadsheets issue) ------------------------------------------

from .models import Job, RoundImport  # noqa: E402


@admin.register(RoundImport)
class RoundImportAdmin(admin.ModelAdmin):
    list_display = ["round", "filename", "recorded", "imported_at", "changed_at"]
    list_filter = ["round__project"]
    raw_id_fields = ["round", "imported_by"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "status", "progress", "input_name", "result_name", "created_at"]
    list_filter = ["project", "kind", "status"]
    raw_id_fields = ["created_by"]
    exclude = ["input_data", "result_data"]
    readonly_fields = ["task_id", "started_at", "finished_at"]


# --- relevance vocabulary -------------------------------------------------------------------------

from .models import ArtefactIndexState, ArtefactTerm, TermFlag, VocabularyTerm  # noqa: E402


class TermFlagInline(admin.TabularInline):
    model = TermFlag
    extra = 0
    raw_id_fields = ["user"]


@admin.register(VocabularyTerm)
class VocabularyTermAdmin(admin.ModelAdmin):
    list_display = ["stem", "example", "project", "artefact_count"]
    list_filter = ["project"]
    search_fields = ["stem", "example"]
    readonly_fields = ["artefact_count"]
    inlines = [TermFlagInline]


@admin.register(TermFlag)
class TermFlagAdmin(admin.ModelAdmin):
    list_display = ["term", "user", "verdict", "updated_at"]
    list_filter = ["verdict", "term__project"]
    raw_id_fields = ["term", "user"]


@admin.register(ArtefactTerm)
class ArtefactTermAdmin(admin.ModelAdmin):
    """Index rows are derived data (rebuilt by the index): shown, not edited."""

    list_display = ["artefact", "term"]
    raw_id_fields = ["artefact", "term"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ArtefactIndexState)
class ArtefactIndexStateAdmin(ArtefactTermAdmin):
    list_display = ["artefact", "digest", "indexed_at"]
    raw_id_fields = ["artefact"]
