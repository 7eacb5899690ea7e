from django.contrib import admin

from validation.models import Answer, Participant, Response, Survey, SurveyCategory


class SurveyCategoryInline(admin.TabularInline):
    model = SurveyCategory
    extra = 0
    fields = ["position", "kind", "code", "name", "level", "source_id"]
    readonly_fields = fields


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "project", "status", "created_at", "opened_at", "closed_at"]
    list_filter = ["status"]
    search_fields = ["title", "project__slug"]
    readonly_fields = ["token", "selection", "created_at"]
    inlines = [SurveyCategoryInline]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["category", "encountered", "severity", "effort", "comment"]
    readonly_fields = fields


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["id", "survey", "role", "experience_years", "created_at", "submitted_at"]
    list_filter = ["survey", "role"]
    readonly_fields = ["token", "created_at", "updated_at", "submitted_at"]
    inlines = [AnswerInline]


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["external_id", "kind", "role", "experience_years", "dl_experience_years", "project"]
    list_filter = ["kind", "role"]
    search_fields = ["external_id", "role_text", "project__slug"]
