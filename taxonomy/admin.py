from django.contrib import admin

from .models import Leaf, Node


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
