"""Pages of the suggestions, for moderators and leads only (never evaluators):

- the merge suggestions page: clusters with their evidence, accept / reject, the merges
  accepted so far with undo;
- the leaf suggestions fragment for a conflict (the item's evaluator tags), loaded into the
  moderators' conflict page;
- the review list of a closed round: its labels no leaf carries, with "attach to …".
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import InvalidInput
from core.views import member
from labelling import selectors as labelling_selectors
from labelling.models import Round
from taxonomy import suggestion_selectors as selectors
from taxonomy import suggestion_services as services

ROLES = ("lead", "moderator")
MAX_TEXTS = 20


def _label_ids(request) -> list[str]:
    ids = [v for v in request.POST.getlist("labels") if v.strip()]
    if not ids and request.POST.get("cluster"):
        ids = [v for v in request.POST["cluster"].split(",") if v.strip()]
    return ids


def _vectors_refresh(project) -> None:
    """With the semantic scorer, labels without a vector get one (a Celery task)."""
    if selectors.label_vectors_missing(project=project):
        services.label_vectors_refresh(project=project)


@login_required
@require_GET
def merges(request, slug):
    project, membership = member(request, slug, roles=ROLES)
    _vectors_refresh(project)
    context = {
        "project": project,
        "membership": membership,
        "clusters": selectors.merge_suggestions(project=project, limit=100),
        "merges": list(selectors.label_merges(project=project)),
        "last_merge": selectors.merge_last_undoable(project=project),
        "can_merge": membership.is_lead or membership.is_moderator,
    }
    return render(request, "taxonomy/merges.html", context)


@login_required
@require_POST
def merge_accept(request, slug):
    project, _ = member(request, slug, roles=ROLES)
    record = services.merge_suggestion_accept(project=project, user=request.user, label_ids=_label_ids(request))
    messages.success(request, record.summary + ".")
    return redirect("taxonomy:merges", slug=project.slug)


@login_required
@require_POST
def merge_reject(request, slug):
    project, _ = member(request, slug, roles=ROLES)
    services.merge_suggestion_reject(project=project, user=request.user, label_ids=_label_ids(request))
    messages.success(request, "Rejected: these labels will not be suggested for a merge again.")
    return redirect("taxonomy:merges", slug=project.slug)


@login_required
@require_POST
def merge_undo(request, slug):
    project, _ = member(request, slug, roles=ROLES)
    record = services.label_merge_undo(project=project, user=request.user, merge_id=request.POST.get("merge") or None)
    messages.success(request, f"Undone: {record.summary}.")
    return redirect("taxonomy:merges", slug=project.slug)


@login_required
@require_GET
def leaf_suggestions(request, slug):
    """A fragment: suggestions for `text` (repeatable) or for the evaluator tags of conflict `item`."""
    project, _ = member(request, slug, roles=ROLES)
    texts = [t.strip() for t in request.GET.getlist("text") if t.strip()]
    item_id = (request.GET.get("item") or "").strip()
    if item_id:
        if not item_id.isdecimal():
            raise InvalidInput("item must be a whole number.", field="item")
        texts += labelling_selectors.item_label_names(project=project, item_id=int(item_id))
    texts = list(dict.fromkeys(texts))[:MAX_TEXTS]
    results = selectors.leaf_suggestions(project=project, texts=texts, top=3, categories=True) if texts else []
    return render(request, "taxonomy/partials/leaf_suggestions.html", {"project": project, "results": results})


@login_required
@require_GET
def round_review(request, slug, number):
    project, membership = member(request, slug, roles=ROLES)
    _vectors_refresh(project)
    rnd = labelling_selectors.round_get(project=project, number=number)
    closed = rnd.status == Round.Status.CLOSED
    context = {
        "project": project,
        "membership": membership,
        "round": rnd,
        "closed": closed,
        "rows": selectors.round_review(project=project, round=rnd) if closed else [],
    }
    return render(request, "taxonomy/round_review.html", context)
