"""Interview pages (htmx). Thin: reads from selectors, writes through services.

Members only (others get 404 from `project_for_member`); the interview rules —
blind coding, who moderates, who reviews — are enforced again by the selectors
and services, so a hand-made request gets the same answer as the page.
One URL serves the page and its fragment (`HX-Request`).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, InvalidInput, NotAllowed, NotFound
from core.htmx import render_page_or_fragment, wants_fragment
from core.uploads import read_upload
from core.views import member, paginate
from interviews import charts, exports, forms, selectors, services
from interviews.models import FinalTag, Interview, InterviewCoder, Piece
from taxonomy import selectors as taxonomy_selectors


def _int(value, field):
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("Must be a whole number.", field=field) from exc


def _in_project(model, object_id, project):
    return selectors.interview_part_get(model=model, object_id=object_id, project=project)


# --- the list ----------------------------------------------------------------------------------


def _list_context(request, project, membership, *, upload_form=None, import_form=None):
    query = (request.GET.get("q") or "").strip()
    stage = request.GET.get("stage") or ""
    if stage not in Interview.Stage.values:
        stage = ""
    per_interview = selectors.final_tags_per_interview(project=project)
    return {
        "project": project,
        "membership": membership,
        "page": paginate(request, selectors.interview_list(project=project, query=query, stage=stage)),
        "query": query,
        "stage": stage,
        "stages": Interview.Stage.choices,
        "stats": selectors.interview_stats_row(project),
        "chart": charts.final_tags_chart(per_interview),
        "mine": list(selectors.my_interviews(project=project, user=request.user)),
        "upload_form": upload_form or (forms.TranscriptUploadForm() if membership.is_lead else None),
        "import_form": import_form or (forms.SheetImportForm() if membership.is_lead else None),
        "finals": selectors.final_tag_counts(project=project),
    }


@login_required
@require_GET
def interview_list(request, slug):
    project, membership = member(request, slug)
    context = _list_context(request, project, membership)
    return render_page_or_fragment(
        request, "interviews/list.html", context, partial="interviews/partials/interview_table.html"
    )


@login_required
@require_POST
def upload(request, slug):
    """Checks the upload (size, DOCX bomb, number, details) and starts its job; the job's page shows the
    parsing's progress and then the interview (at once with eager Celery)."""
    project, membership = member(request, slug, roles=("lead",))
    form = forms.TranscriptUploadForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        upload_file = data["file"]
        try:
            job = services.interview_upload_start(
                project=project,
                user=request.user,
                filename=upload_file.name,
                data=read_upload(upload_file, kind="interview"),
                number=data["number"],
                replace=data["replace"],
                title=data["title"],
                interviewee_profile=data["interviewee_profile"],
                interviewers=data["interviewers"],
                date=data["date"],
                duration=data["duration"],
            )
        except DomainError as error:
            forms.attach_error(form, error)
            status = error.status_code
        else:
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    context = _list_context(request, project, membership, upload_form=form)
    return render(request, "interviews/list.html", context, status=status)


@login_required
@require_POST
def import_sheet(request, slug):
    """Checks the sheet (size, XLSX bomb, CSV shape) and starts its import job; the job's page shows the report."""
    project, membership = member(request, slug, roles=("lead",))
    form = forms.SheetImportForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        sheet = form.cleaned_data["file"]
        try:
            job = services.coding_sheet_import_start(
                project=project, user=request.user, filename=sheet.name, data=read_upload(sheet, kind="interview_sheet")
            )
        except DomainError as error:
            forms.attach_error(form, error)
            status = error.status_code
        else:
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    context = _list_context(request, project, membership, import_form=form)
    return render(request, "interviews/list.html", context, status=status)


@login_required
@require_GET
def export_sheet(request, slug, fmt):
    project, _ = member(request, slug)
    if fmt not in ("xlsx", "csv"):
        raise NotFound("Export as .xlsx or .csv.")
    content = exports.coding_sheet(project=project, fmt=fmt)
    types = {
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "csv": "text/csv; charset=utf-8",
    }
    response = HttpResponse(content, content_type=types[fmt])
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-interview-coding.{fmt}"'
    return response


# --- one interview ---------------------------------------------------------------------------------------


def _speaker_colours(interview) -> dict[str, str]:
    palette = ["#2f6fdb", "#8e44ad", "#1f8a4c", "#b7791f", "#c0392b", "#16a085", "#7f8c8d"]
    colours = {s["name"]: s.get("colour") for s in interview.speakers if s.get("name")}
    for i, name in enumerate(list(colours)):
        colours[name] = colours[name] or palette[i % len(palette)]
    return colours


def _detail_context(request, project, membership, interview):
    coders = selectors.interview_coders(interview=interview)
    me = next((c for c in coders["all"] if c.user_id == request.user.id), None)
    done = selectors.both_done(interview=interview)
    fragments = list(selectors.visible_fragments(interview=interview, user=request.user))
    colours = _speaker_colours(interview)
    rows = selectors.paragraphs(interview=interview)
    for row in rows:
        row["colour"] = colours.get(row["speaker"], "#98a2b3")
    context = {
        "project": project,
        "membership": membership,
        "interview": interview,
        "coders": coders,
        "me": me,
        "is_evaluator": bool(me and me.role == InterviewCoder.Role.EVALUATOR),
        "is_moderator": bool(me and me.role == InterviewCoder.Role.MODERATOR),
        "both_done": done,
        "paragraphs": selectors.highlight_paragraphs(rows, fragments, user_id=request.user.id),
        "fragments": fragments,
        "my_fragments": [f for f in fragments if f.coder.user_id == request.user.id],
        "suggestions": selectors.tag_suggestions(project=project, user=request.user, limit=30),
    }
    if membership.is_lead and not interview.is_imported:
        context["coders_form"] = forms.CodersForm(
            initial={
                "moderator": coders["moderator"].user_id if coders["moderator"] else None,
                "evaluator1": coders["evaluators"].get(1).user_id if coders["evaluators"].get(1) else None,
                "evaluator2": coders["evaluators"].get(2).user_id if coders["evaluators"].get(2) else None,
            },
            moderators=selectors.members_with_roles(project=project, roles=("moderator", "lead")),
            evaluators=selectors.members_with_roles(project=project, roles=("evaluator",)),
        )
    if membership.is_lead:
        context["details_form"] = forms.DetailsForm(
            initial={
                "title": interview.title,
                "interviewee_profile": interview.interviewee_profile,
                "interviewers": interview.interviewers,
                "date": interview.date.isoformat() if interview.date else "",
                "duration": _duration_text(interview.duration),
            }
        )
    return context


def _duration_text(duration) -> str:
    if not duration:
        return ""
    seconds = int(duration.total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _workspace(request, project, membership, interview, status=200):
    context = _detail_context(request, project, membership, interview)
    if wants_fragment(request):
        return render(request, "interviews/partials/workspace.html", context, status=status)
    return render(request, "interviews/detail.html", context, status=status)


@login_required
@require_GET
def detail(request, slug, number):
    project, membership = member(request, slug)
    interview = selectors.interview_get(project=project, number=number)
    return _workspace(request, project, membership, interview)


@login_required
@require_POST
def details(request, slug, number):
    project, membership = member(request, slug, roles=("lead",))
    interview = selectors.interview_get(project=project, number=number)
    form = forms.DetailsForm(request.POST)
    if not form.is_valid():
        raise InvalidInput("Check the details.", field="details")
    services.interview_update(interview_id=interview.id, user=request.user, **form.cleaned_data)
    messages.success(request, "Details saved.")
    return redirect("interviews:detail", slug=project.slug, number=number)


@login_required
@require_POST
def paragraph_speaker(request, slug, number, paragraph_id):
    project, _ = member(request, slug, roles=("lead",))
    paragraph = selectors.paragraph_get(project=project, number=number, paragraph_id=paragraph_id)
    services.paragraph_speaker_set(paragraph_id=paragraph.id, user=request.user, speaker=request.POST.get("speaker"))
    return redirect(f"{reverse('interviews:detail', args=[project.slug, number])}#p{paragraph.position}")


@login_required
@require_POST
def coders(request, slug, number):
    project, membership = member(request, slug, roles=("lead",))
    interview = selectors.interview_get(project=project, number=number)
    ids = {name: _int(request.POST.get(name), name) for name in ("moderator", "evaluator1", "evaluator2")}
    services.interview_coders_set(
        interview_id=interview.id,
        user=request.user,
        moderator_id=ids["moderator"],
        evaluator1_id=ids["evaluator1"],
        evaluator2_id=ids["evaluator2"],
    )
    messages.success(request, "Coders saved.")
    return redirect("interviews:detail", slug=project.slug, number=number)


@login_required
@require_POST
def fragments(request, slug, number):
    project, membership = member(request, slug)
    interview = selectors.interview_get(project=project, number=number)
    form = forms.FragmentForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(" ".join(errors), field=field)
    data = form.cleaned_data
    services.fragment_create(
        interview_id=interview.id,
        user=request.user,
        start=data["start"],
        end=data["end"],
        tag=data["tag"],
        note=data["note"],
    )
    if not wants_fragment(request):
        return redirect("interviews:detail", slug=project.slug, number=number)
    interview.refresh_from_db()
    return _workspace(request, project, membership, interview)


@login_required
@require_POST
def fragment(request, slug, number, fragment_id):
    project, membership = member(request, slug)
    interview = selectors.fragment_get(project=project, number=number, fragment_id=fragment_id).interview
    action = request.POST.get("action")
    if action == "delete":
        services.fragment_delete(fragment_id=fragment_id, user=request.user)
    elif action == "update":
        form = forms.FragmentEditForm(request.POST)
        if not form.is_valid():
            raise InvalidInput("A tag cannot be empty.", field="tag")
        services.fragment_update(
            fragment_id=fragment_id, user=request.user, tag=form.cleaned_data["tag"], note=form.cleaned_data["note"]
        )
    else:
        raise InvalidInput("Unknown action; choose update or delete.", field="action")
    if not wants_fragment(request):
        return redirect("interviews:detail", slug=project.slug, number=number)
    return _workspace(request, project, membership, interview)


@login_required
@require_POST
def done(request, slug, number):
    project, membership = member(request, slug)
    interview = selectors.interview_get(project=project, number=number)
    if request.POST.get("action") == "reopen":
        services.coding_reopen(interview_id=interview.id, user=request.user)
        messages.info(request, "Reopened: you can change your fragments again.")
    else:
        services.coding_done(interview_id=interview.id, user=request.user)
        messages.success(request, f"Interview {number} marked done.")
    return redirect("interviews:detail", slug=project.slug, number=number)


@login_required
@require_GET
def transcript(request, slug, number, fmt):
    project, _ = member(request, slug)
    interview = selectors.interview_get(project=project, number=number)
    if fmt not in ("txt", "md", "json"):
        raise NotFound("Download as .txt, .md or .json.")
    if not interview.has_transcript:
        raise NotFound(f"{interview} has no transcript.")
    pseudonymise = request.GET.get("pseudonymise") in ("1", "on", "true", "yes")
    content, content_type = exports.transcript_export(interview=interview, fmt=fmt, pseudonymise=pseudonymise)
    response = HttpResponse(content, content_type=content_type)
    suffix = "-pseudonymised" if pseudonymise else ""
    response["Content-Disposition"] = f'attachment; filename="interview{interview.number}{suffix}.{fmt}"'
    return response


# --- moderation -----------------------------------------------------------------------------------------------


def _may_moderate(membership, coders, user) -> bool:
    return membership.is_lead or bool(coders["moderator"] and coders["moderator"].user_id == user.id)


@login_required
@require_GET
def moderate(request, slug, number):
    project, membership = member(request, slug)
    interview = selectors.interview_get(project=project, number=number)
    coders = selectors.interview_coders(interview=interview)
    kind = request.GET.get("kind") or ""
    pieces = selectors.moderation_pieces(interview=interview)
    if kind in Piece.Kind.values:
        pieces = pieces.filter(kind=kind)
    if request.GET.get("pending"):
        pieces = pieces.filter(decision=Piece.Decision.PENDING)
    may = _may_moderate(membership, coders, request.user)
    items = [selectors.moderation_item(p, text=interview.text, coders=coders) for p in pieces]
    context = {
        "project": project,
        "membership": membership,
        "interview": interview,
        "coders": coders,
        "items": items,
        "summary": selectors.moderation_summary(interview=interview),
        "may_moderate": may,
        "may_edit_final": may or membership.is_moderator,
        "kind": kind,
        "kinds": Piece.Kind.choices,
        "pending_only": bool(request.GET.get("pending")),
    }
    return render(request, "interviews/moderate.html", context)


@login_required
@require_POST
def piece(request, slug, piece_id):
    project, membership = member(request, slug)
    found = _in_project(Piece, piece_id, project)
    action = request.POST.get("action")
    if action == "keep":
        form = forms.KeepForm(request.POST)
        if not form.is_valid():
            raise InvalidInput("Give a moderator tag to keep this piece.", field="moderator_tag")
        services.piece_keep(
            piece_id=found.id,
            user=request.user,
            moderator_tag=form.cleaned_data["moderator_tag"],
            note=form.cleaned_data["note"] or None,
        )
    elif action == "discard":
        services.piece_discard(piece_id=found.id, user=request.user)
    else:
        raise InvalidInput("Unknown action; choose keep or discard.", field="action")
    if not wants_fragment(request):
        return redirect("interviews:moderate", slug=project.slug, number=found.interview.number)
    return _piece_response(request, project, membership, found.id)


def _piece_response(request, project, membership, piece_id):
    interview = selectors.piece_interview(piece_id=piece_id)
    fresh = selectors.moderation_pieces(interview=interview).get(id=piece_id)
    coders = selectors.interview_coders(interview=interview)
    may = _may_moderate(membership, coders, request.user)
    context = {
        "project": project,
        "membership": membership,
        "interview": interview,
        "item": selectors.moderation_item(fresh, text=interview.text, coders=coders),
        "may_moderate": may,
        "may_edit_final": may or membership.is_moderator,
        "oob_summary": selectors.moderation_summary(interview=interview),
    }
    return render(request, "interviews/partials/piece.html", context)


# --- final tags: review, edit, place ------------------------------------------------------------------------------


@login_required
@require_GET
def review(request, slug):
    project, membership = member(request, slug)
    if request.GET.get("part") == "counts":
        return render(
            request,
            "interviews/partials/review_counts.html",
            {"project": project, "counts": selectors.final_tag_counts(project=project)},
        )
    status = request.GET.get("status") or ""
    if status not in FinalTag.Status.values:
        status = ""
    number = request.GET.get("interview") or ""
    query = (request.GET.get("q") or "").strip()
    listing = selectors.final_tags(
        project=project, status=status, number=int(number) if number.isdecimal() else None, query=query
    )
    context = {
        "project": project,
        "membership": membership,
        "page": paginate(request, listing, per_page=50),
        "status": status,
        "statuses": FinalTag.Status.choices,
        "number": number,
        "query": query,
        "counts": selectors.final_tag_counts(project=project),
        "may_review": membership.is_lead or membership.is_moderator,
        "numbers": selectors.interview_numbers_with_final_tags(project=project),
    }
    if wants_fragment(request) and request.headers.get("HX-Target") == "review-table":
        return render(request, "interviews/partials/review_table.html", context)
    return render(request, "interviews/review.html", context)


@login_required
@require_POST
def final_tag(request, slug, final_tag_id):
    project, membership = member(request, slug)
    found = _in_project(FinalTag, final_tag_id, project)
    action = request.POST.get("action")
    if action == "edit":
        form = forms.FinalTagEditForm(request.POST)
        if not form.is_valid():
            raise InvalidInput("A final tag cannot be empty.", field="text")
        services.final_tag_edit(final_tag_id=found.id, user=request.user, text=form.cleaned_data["text"])
    elif action in ("accepted", "removed", "pending"):
        services.final_tag_review(final_tag_id=found.id, user=request.user, status=action)
    else:
        raise InvalidInput("Unknown action; choose edit, accepted, removed or pending.", field="action")
    if request.POST.get("view") == "piece":
        if not wants_fragment(request):
            return redirect("interviews:moderate", slug=project.slug, number=found.interview.number)
        return _piece_response(request, project, membership, found.piece_id)
    if not wants_fragment(request):
        return redirect("interviews:review", slug=project.slug)
    row = selectors.final_tags(project=project).get(id=found.id)
    response = render(
        request,
        "interviews/partials/review_row.html",
        {"project": project, "final": row, "may_review": True, "membership": membership},
    )
    response["HX-Trigger"] = "finalTagReviewed"  # the counts above the table refresh themselves
    return response


@login_required
@require_http_methods(["GET", "POST"])
def unmapped(request, slug):
    project, membership = member(request, slug)
    if request.method == "POST":
        if not (membership.is_lead or membership.is_moderator):
            raise NotAllowed("Placing tags in the taxonomy needs the lead or moderator role.")
        form = forms.PlaceForm(request.POST)
        if not form.is_valid():
            raise InvalidInput("Choose the tags and a leaf or a category.", field="ids")
        data = form.cleaned_data
        if not data["leaf"] and not data["node"]:
            raise InvalidInput("Choose an existing leaf or a category for a new leaf.", field="leaf")
        finals = services.final_tags_place(
            project=project, final_tag_ids=data["ids"], user=request.user, leaf_id=data["leaf"], node_id=data["node"]
        )
        messages.success(request, f"Placed {len(finals)} final tag(s) under “{finals[0].leaf.label}”.")
        return redirect("interviews:unmapped", slug=project.slug)

    context = {
        "project": project,
        "membership": membership,
        "groups": selectors.unmapped_final_tags(project=project),
        "may_place": membership.is_lead or membership.is_moderator,
        "leaves": taxonomy_selectors.leaf_list(project=project),
        "nodes": taxonomy_selectors.node_list(project=project),
        "stats": selectors.interview_stats_row(project),
    }
    return render(request, "interviews/unmapped.html", context)


@login_required
@require_GET
def suggest(request, slug):
    """Datalist options for a tag box: blind suggestions with usage counts."""
    project, _ = member(request, slug)
    query = request.GET.get("q") or request.GET.get("tag") or request.GET.get("moderator_tag") or ""
    suggestions = selectors.tag_suggestions(project=project, user=request.user, query=query)
    evaluator_tags = []
    if request.GET.get("piece", "").isdecimal():  # moderation: the piece's own tags first (both evaluators are done)
        found = _in_project(Piece, int(request.GET["piece"]), project)
        evaluator_tags = [t for t in (found.evaluator1_tag, found.evaluator2_tag) if t]
    return render(
        request,
        "interviews/partials/suggestions.html",
        {"suggestions": suggestions, "evaluator_tags": list(dict.fromkeys(evaluator_tags))},
    )
