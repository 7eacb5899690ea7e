from django.contrib import admin

from interviews.models import FinalTag, Fragment, Interview, InterviewCoder, Paragraph, Piece


class InterviewCoderInline(admin.TabularInline):
    model = InterviewCoder
    extra = 0
    raw_id_fields = ["user", "assigned_by"]


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    list_display = ["number", "project", "title", "stage", "coding_source", "transcript_filename", "date"]
    list_filter = ["project", "stage", "coding_source"]
    search_fields = ["title", "interviewee_profile", "interviewers"]
    raw_id_fields = ["created_by"]
    inlines = [InterviewCoderInline]


@admin.register(Paragraph)
class ParagraphAdmin(admin.ModelAdmin):
    list_display = ["interview", "position", "speaker", "start", "end", "speaker_note"]
    list_filter = ["interview__project"]
    search_fields = ["speaker"]


@admin.register(InterviewCoder)
class InterviewCoderAdmin(admin.ModelAdmin):
    list_display = ["interview", "user", "role", "slot", "done_at"]
    list_filter = ["role", "interview__project"]
    raw_id_fields = ["user", "assigned_by"]


@admin.register(Fragment)
class FragmentAdmin(admin.ModelAdmin):
    list_display = ["id", "interview", "coder", "start", "end", "tag", "piece"]
    list_filter = ["interview__project"]
    search_fields = ["tag", "quote"]
    raw_id_fields = ["piece", "coder"]


@admin.register(Piece)
class PieceAdmin(admin.ModelAdmin):
    list_display = ["interview", "position", "kind", "decision", "moderator_tag"]
    list_filter = ["kind", "decision", "interview__project"]
    search_fields = ["evaluator1_tag", "evaluator2_tag", "moderator_tag"]
    raw_id_fields = ["decided_by"]


@admin.register(FinalTag)
class FinalTagAdmin(admin.ModelAdmin):
    list_display = ["text", "interview", "status", "leaf"]
    list_filter = ["status", "interview__project"]
    search_fields = ["text", "normalised"]
    raw_id_fields = ["piece", "leaf", "edited_by", "reviewed_by"]
