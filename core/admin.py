"""Admin of projects, members and jobs."""

from django.contrib import admin

from core.models import Job, Membership, Project


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


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "kind", "status", "progress", "input_name", "result_name", "created_at"]
    list_filter = ["project", "kind", "status"]
    raw_id_fields = ["created_by"]
    exclude = ["input_data", "result_data"]
    readonly_fields = ["task_id", "started_at", "finished_at"]
