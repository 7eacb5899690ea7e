from django.contrib import admin

from taxonomy.models import Comparison, ComparisonClass, Leaf, Node, TaxonomyChange


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "project", "parent", "round_created"]
    list_filter = ["project"]
    search_fields = ["name", "code"]
    raw_id_fields = ["parent"]


@admin.register(Leaf)
class LeafAdmin(admin.ModelAdmin):
    list_display = ["label", "node", "round_created"]
    list_filter = ["node__project"]
    raw_id_fields = ["node", "label"]


@admin.register(TaxonomyChange)
class TaxonomyChangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "project", "user", "action", "summary", "undone_at"]
    list_filter = ["project", "action"]
    search_fields = ["summary"]
    raw_id_fields = ["user", "undone_by"]
    readonly_fields = ["snapshot"]


class ComparisonClassInline(admin.TabularInline):
    model = ComparisonClass
    extra = 0
    filter_horizontal = ["nodes"]
    raw_id_fields = ["leaves"]


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "project", "created_at"]
    list_filter = ["project", "kind"]
    search_fields = ["name"]
    inlines = [ComparisonClassInline]


@admin.register(ComparisonClass)
class ComparisonClassAdmin(admin.ModelAdmin):
    list_display = ["name", "comparison"]
    list_filter = ["comparison__project"]
    search_fields = ["name"]
    raw_id_fields = ["nodes", "leaves"]
