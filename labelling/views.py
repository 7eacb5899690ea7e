"""Server-rendered pages (htmx). Thin: reads come from selectors, writes go through services.

Rules are enforced on the server: non-members get 404 (raised by the selectors),
missing roles 403, another evaluator's label is never rendered on an undecided item,
and a service's DomainError is either shown on the form's field (400/409, nothing
written) or rendered as a 4xx page by DomainErrorMiddleware.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import Conflict, InvalidInput, NotAllowed
from core.htmx import render_page_or_fragment
from core.views import int_param, member, paginate
from labelling import selectors, services
from labelling.forms import (
    AnnotationForm,
    ArtefactFilterForm,
    CatalogueAddForm,
    LabelIdForm,
    LabelMergeForm,
    LabelRenameForm,
    ResolveForm,
    RoundCreateForm,
    SendBackForm,
    attach_error,
)
from labelling.models import RoundItem, Verdict

PAGE_SIZE = 25
FORM_ERRORS = (InvalidInput, Conflict)  # shown on the form; NotFound/NotAllowed become 4xx pages


# --- projects -------------------------------------------------------------------------


@login_required
@require_GET
@login_required
@require_GET
def project(request, slug):
    project, membership = member(request, slug)
    context = {"project": project, "membership": membership}
    if membership.is_evaluator:
        context["my_rounds"] = list(selectors.evaluator_round_progress(project=project, user=request.user)[:5])
        open_ = selectors.evaluator_open_assignments(project=project, user=request.user)
        context["open_count"] = open_.count()
        context["next_assignment"] = open_.first()
    if membership.is_moderator or membership.is_lead:
        context["conflict_count"] = selectors.conflict_queue(project=project).count()
    if membership.is_lead or membership.is_moderator:
        context["rounds"] = list(selectors.rounds_overview(project=project)[:5])
    if membership.is_lead:
        context["artefacts"] = selectors.artefact_counts(project=project)
    return render(request, "labelling/project.html", context)


# --- evaluators -------------------------------------------------------------------------


@login_required
@require_GET
def queue(request, slug):
    project, membership = member(request, slug, roles=("evaluator",))
    round_number = int_param(request, "round")
    rounds = list(selectors.evaluator_round_progress(project=project, user=request.user))
    page = paginate(request, selectors.evaluator_queue(project=project, user=request.user, round_number=round_number))
    context = {
        "project": project,
        "membership": membership,
        "rounds": rounds,
        "page": page,
        "round_number": round_number,
        "continue_with": selectors.evaluator_continue(project=project, user=request.user),
    }
    return render_page_or_fragment(
        request, "labelling/queue.html", context, partial="labelling/partials/queue_list.html"
    )


@login_required
@require_http_methods(["GET", "POST"])
def assignment(request, slug, assignment_id):
    project, membership = member(request, slug, roles=("evaluator",))
    assignment = selectors.evaluator_assignment(project=project, user=request.user, assignment_id=assignment_id)
    annotation = getattr(assignment, "annotation", None)
    item = assignment.item
    status = 200
    if request.method == "POST":
        form = AnnotationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            # A verdict button states the intent: the verdict wins over a half-typed label.
            label = None if data["verdict"] else data["label"]
            try:
                services.annotation_submit(
                    project=project,
                    assignment_id=assignment.id,
                    user=request.user,
                    label=label,
                    verdict=data["verdict"] or None,
                    note=data["note"],
                )
            except FORM_ERRORS as error:
                attach_error(form, error)
                status = error.status_code
            else:
                saved = Verdict(data["verdict"]).label if data["verdict"] else data["label"]
                messages.success(request, f"Saved “{saved}” for {item.artefact}.")
                following = selectors.evaluator_next_open(project=project, user=request.user, after=assignment)
                if following is None:
                    messages.info(request, "Your queue is empty. Thank you!")
                    return redirect("labelling:queue", slug=project.slug)
                return redirect("labelling:assignment", slug=project.slug, assignment_id=following.id)
        else:
            status = 400
    else:
        initial = {}
        if annotation is not None:
            initial = {"label": annotation.label.name if annotation.label_id else "", "note": annotation.note}
        form = AnnotationForm(initial=initial)
    previous_id, next_id = selectors.evaluator_neighbours(assignment=assignment)
    editable = selectors.assignment_editable(assignment=assignment)
    context = {
        "project": project,
        "membership": membership,
        "assignment": assignment,
        "item": item,
        "artefact": item.artefact,
        "annotation": annotation,
        "form": form,
        "editable": editable,
        "verdicts": Verdict.choices,
        "previous_id": previous_id,
        "next_id": next_id,
        "position": selectors.evaluator_round_position(assignment=assignment),
        # the codebook panel: guidelines, the round's instructions, the labels the evaluator may see
        "codebook_labels": list(selectors.labels_visible(project=project, user=request.user)),
        # Blind: other evaluators' annotations only once the item is decided.
        "others": list(selectors.item_annotations(item=item)) if item.is_decided else None,
    }
    return render(request, "labelling/assignment.html", context, status=status)


@login_required
@require_GET
def label_suggestions(request, slug):
    """Autocomplete fragment: labels from decided items, the catalogue and the viewer's own annotations."""
    project, membership = member(request, slug)
    query = (request.GET.get("q") or request.GET.get("label") or "")[:200]
    suggestions = list(selectors.label_suggestions(project=project, user=request.user, query=query))
    context = {"project": project, "membership": membership, "suggestions": suggestions, "query": query}
    return render_page_or_fragment(
        request, "labelling/suggestions.html", context, partial="labelling/partials/suggestions.html"
    )


@login_required
@require_GET
def my_annotations(request, slug):
    project, membership = member(request, slug, roles=("evaluator",))
    page = paginate(request, selectors.evaluator_annotations(project=project, user=request.user))
    context = {"project": project, "membership": membership, "page": page}
    return render_page_or_fragment(
        request, "labelling/my_annotations.html", context, partial="labelling/partials/my_annotations_list.html"
    )


# --- leads: rounds --------------------------------------------------------------------------


def _round_form(project, data=None):
    evaluators = selectors.active_evaluators(project=project)
    initial = {"mode": "sample"}
    if data is None:  # a new round starts with every active evaluator ticked
        initial["evaluators"] = list(evaluators.values_list("id", flat=True))
    return RoundCreateForm(
        data, evaluators=evaluators, frameworks=selectors.artefact_frameworks(project=project), initial=initial
    )


@login_required
@require_http_methods(["GET", "POST"])
def rounds(request, slug):
    project, membership = member(request, slug, roles=("lead", "moderator"))
    status = 200
    form = None
    if request.method == "POST":
        if not membership.is_lead:
            raise NotAllowed("Creating a round needs the lead role.")
        form = _round_form(project, request.POST)
        if form.is_valid():
            try:
                rnd = services.round_create(project=project, user=request.user, **form.service_kwargs())
            except FORM_ERRORS as error:
                attach_error(form, error)
                status = error.status_code
            else:
                messages.success(request, f"{rnd} created with {rnd.items.count()} artefacts.")
                return redirect("labelling:round", slug=project.slug, number=rnd.number)
        else:
            status = 400
    elif membership.is_lead:
        form = _round_form(project)
    context = {
        "project": project,
        "membership": membership,
        "page": paginate(request, selectors.rounds_overview(project=project)),
        "form": form,
        "artefacts": selectors.artefact_counts(project=project) if membership.is_lead else None,
    }
    return render(request, "labelling/rounds.html", context, status=status)


def _status_segments(summary: dict, width: int = 1000) -> list[dict]:
    """Widths of a stacked bar of item statuses (an inline SVG drawn server-side)."""
    total = summary["total"] or 0
    segments, x = [], 0
    for status in RoundItem.Status:
        count = summary[status.value]
        if not count or not total:
            continue
        w = round(width * count / total, 1)
        segments.append({"key": status.value, "name": status.label, "count": count, "x": round(x, 1), "width": w})
        x += w
    return segments


@login_required
@require_http_methods(["GET", "POST"])
def round_detail(request, slug, number):
    project, membership = member(request, slug, roles=("lead", "moderator"))
    rnd = selectors.round_get(project=project, number=number)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "instructions":
            services.round_instructions_set(round=rnd, user=request.user, instructions=request.POST.get("instructions"))
            messages.success(request, "Instructions saved: evaluators see them in the codebook panel.")
        elif action == "close":
            services.round_close(round=rnd, user=request.user)  # NotAllowed for non-leads → 403 page
            messages.success(request, f"{rnd} is closed.")
        else:
            raise InvalidInput("Unknown action; the round page closes rounds and edits instructions.", field="action")
        return redirect("labelling:round", slug=project.slug, number=rnd.number)
    summary = selectors.round_summary(round=rnd)
    context = {
        "project": project,
        "membership": membership,
        "round": rnd,
        "summary": summary,
        "segments": _status_segments(summary),
        "evaluators": list(selectors.round_evaluator_progress(round=rnd)),
        "disagreements": list(
            selectors.round_open_items(round=rnd, status=RoundItem.Status.LABELLING, disagreed=True)[:20]
        ),
        "conflicts": list(selectors.round_open_items(round=rnd, status=RoundItem.Status.CONFLICT)[:20]),
    }
    return render_page_or_fragment(
        request, "labelling/round.html", context, partial="labelling/partials/round_progress.html"
    )


# --- moderators: conflicts -------------------------------------------------------------------


@login_required
@require_GET
def conflicts(request, slug):
    project, membership = member(request, slug, roles=("lead", "moderator"))
    resolved = request.GET.get("show") == "resolved"
    round_number = int_param(request, "round")
    queue = selectors.conflict_queue(project=project, resolved=resolved, round_number=round_number)
    context = {
        "project": project,
        "membership": membership,
        "page": paginate(request, queue),
        "resolved": resolved,
        "round_number": round_number,
    }
    return render_page_or_fragment(
        request, "labelling/conflicts.html", context, partial="labelling/partials/conflict_list.html"
    )


@login_required
@require_http_methods(["GET", "POST"])
def conflict(request, slug, item_id):
    project, membership = member(request, slug, roles=("lead", "moderator"))
    item = selectors.conflict_item(project=project, item_id=item_id)
    annotations = list(selectors.item_annotations(item=item))
    evaluators = [an.assignment.evaluator for an in annotations]
    form, send_back_form, status = ResolveForm(), SendBackForm(evaluators=evaluators), 200
    if request.method == "POST":
        if not membership.is_moderator:
            raise NotAllowed("Resolving a conflict or sending it back needs the moderator role.")
        if request.POST.get("action") == "send_back":
            send_back_form = SendBackForm(request.POST, evaluators=evaluators)
            status = _conflict_send_back(request, project, item, send_back_form)
        else:
            form = ResolveForm(request.POST)
            status = _conflict_resolve(request, project, item, form)
        if status is None:  # done: on to the next open conflict
            following = selectors.conflict_next_open(project=project, after_id=item.id)
            if following is None:
                return redirect("labelling:conflicts", slug=project.slug)
            return redirect("labelling:conflict", slug=project.slug, item_id=following)
    context = {
        "project": project,
        "membership": membership,
        "item": item,
        "artefact": item.artefact,
        "annotations": annotations,
        "comment_count": item.comments.count(),
        "form": form,
        "send_back_form": send_back_form,
        "sent_back": selectors.conflict_sent_back(item=item) if item.sent_back else [],
        "verdicts": Verdict.choices,
    }
    return render(request, "labelling/conflict.html", context, status=status)


def _conflict_resolve(request, project, item, form) -> int | None:
    """Resolve from the form; None when done, else the status of the page showing the form's errors."""
    if not form.is_valid():
        return 400
    data = form.cleaned_data
    try:
        services.conflict_resolve(
            project=project,
            item_id=item.id,
            user=request.user,
            annotation_id=data["annotation_id"],
            label=data["label"] or None,
            verdict=data["verdict"] or None,
            note=data["note"],
        )
    except FORM_ERRORS as error:
        attach_error(form, error)
        return error.status_code
    messages.success(request, f"Conflict on {item.artefact} resolved.")
    return None


def _conflict_send_back(request, project, item, form) -> int | None:
    """Send the conflict back from the form; None when done, else the status of the page with the errors."""
    if not form.is_valid():
        return 400
    try:
        services.conflict_send_back(
            project=project,
            item_id=item.id,
            user=request.user,
            evaluator_ids=form.cleaned_data["evaluator_ids"],
            reason=form.cleaned_data["reason"],
        )
    except FORM_ERRORS as error:
        attach_error(form, error)
        return error.status_code
    names = ", ".join(
        label for value, label in form.fields["evaluator_ids"].choices if value in form.cleaned_data["evaluator_ids"]
    )
    messages.success(request, f"{item.artefact} sent back to {names}.")
    return None


# --- leads: label catalogue ----------------------------------------------------------------------


def _label_action(request, project, action):
    """Run one catalogue action; returns (form, result or None, status)."""
    form_class = {
        "add": CatalogueAddForm,
        "uncatalogue": LabelIdForm,
        "rename": LabelRenameForm,
        "merge": LabelMergeForm,
    }[action]
    form = form_class(request.POST, prefix="add" if action == "add" else None)
    if not form.is_valid():
        return form, None, 400
    data = form.cleaned_data
    try:
        if action == "add":
            result = services.label_create(
                project=project, user=request.user, name=data["name"], description=data["description"]
            )
        else:
            label = selectors.label_get(project=project, label_id=data["label_id"])
            if action == "uncatalogue":
                result = services.label_update(label_id=label.id, user=request.user, in_catalogue=False)
            elif action == "rename":
                result = services.label_rename(label_id=label.id, user=request.user, name=data["name"])
            else:
                target = selectors.label_get_by_name(project=project, name=data["target"])
                if target is None:
                    raise InvalidInput(f"No label “{data['target']}” in this project.", field="target")
                result = services.label_merge(source_id=label.id, target_id=target.id, user=request.user)
    except FORM_ERRORS as error:
        attach_error(form, error)
        return form, None, error.status_code
    return form, result, 200


@login_required
@require_http_methods(["GET", "POST"])
def labels(request, slug):
    project, membership = member(request, slug, roles=("lead",))
    status = 200
    add_form = CatalogueAddForm(prefix="add")
    failed_id = failed_form = None  # the row whose rename/merge did not go through
    if request.method == "POST":
        action = request.POST.get("action")
        if action not in ("add", "uncatalogue", "rename", "merge"):
            raise InvalidInput("Unknown action; choose add, uncatalogue, rename or merge.", field="action")
        form, result, status = _label_action(request, project, action)
        if result is not None:
            verb = {
                "add": "is in the catalogue",
                "uncatalogue": "is no longer in the catalogue",
                "rename": "renamed",
                "merge": "merged",
            }[action]
            messages.success(request, f"Label “{result}” {verb}.")
            query = request.GET.urlencode()
            return redirect(reverse("labelling:labels", args=[project.slug]) + (f"?{query}" if query else ""))
        if action == "add":
            add_form = form
        else:
            raw_id = request.POST.get("label_id") or ""
            failed_id, failed_form = (int(raw_id) if raw_id.isdecimal() else None), form
    query = (request.GET.get("q") or "").strip()
    catalogue = selectors.label_catalogue(
        project=project, user=request.user, blind=membership.is_evaluator, query=query
    )
    context = {
        "project": project,
        "membership": membership,
        "page": paginate(request, catalogue, per_page=50),
        "query": query,
        "add_form": add_form,
        "failed_id": failed_id,
        "failed_form": failed_form,
    }
    return render(request, "labelling/labels.html", context, status=status)


# --- artefacts ------------------------------------------------------------------------------------


@login_required
@require_GET
def artefacts(request, slug):
    project, membership = member(request, slug)
    frameworks = selectors.artefact_frameworks(project=project)
    filters = ArtefactFilterForm(request.GET, frameworks=frameworks)
    if not filters.is_valid():
        return render_page_or_fragment(
            request,
            "labelling/artefacts.html",
            {"project": project, "membership": membership, "filters": filters, "page": None},
            partial="labelling/partials/artefact_list.html",
            status=400,
        )
    data = filters.cleaned_data
    listing = selectors.artefact_list(
        project=project,
        query=data["q"],
        kind=data["kind"],
        framework=data["framework"],
        pool=data["pool"],
        vocabulary=data["vocabulary"],
    )
    context = {
        "project": project,
        "membership": membership,
        "filters": filters,
        "page": paginate(request, listing, per_page=50),
        "evaluators": list(selectors.active_evaluators(project=project)) if membership.is_lead else [],
    }
    return render_page_or_fragment(
        request, "labelling/artefacts.html", context, partial="labelling/partials/artefact_list.html"
    )


# --- the discussion of a conflict ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def discussion(request, slug, item_id):
    """A conflict's discussion, for the moderators and the evaluators of the item (after blind labelling)."""
    project, membership = member(request, slug)
    status, error = 200, None
    if request.method == "POST":
        try:
            services.comment_post(project=project, item_id=item_id, user=request.user, body=request.POST.get("body"))
        except FORM_ERRORS as exc:
            status, error = exc.status_code, exc.message
        else:
            return redirect("labelling:discussion", slug=project.slug, item_id=item_id)
    item, comments = selectors.discussion_of(project=project, item_id=item_id, user=request.user)
    context = {
        "project": project,
        "membership": membership,
        "item": item,
        "comments": comments,
        "error": error,
        "body": request.POST.get("body", "") if error else "",
    }
    return render(request, "labelling/discussion.html", context, status=status)
