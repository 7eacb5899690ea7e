"""Admin of artefacts and the vocabulary."""

from django.contrib import admin

from collection.models import Artefact, ArtefactIndexState, ArtefactTerm, TermFlag, VocabularyTerm


@admin.register(Artefact)
class ArtefactAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "framework", "title", "url"]
    list_filter = ["project", "kind", "framework"]
    search_fields = ["title", "url", "body"]


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
