"""The taxonomy builder's pages (htmx). Thin: reads from selectors, writes through services.

One URL serves page and fragment: an htmx request gets the workspace (tree, panel,
unmapped labels, history, figure) re-rendered; a plain form post is redirected back
to the page. Every member reads; leads and moderators edit (enforced by the services,
non-members get 404). Filters (`source`, `round`) and the search (`q`) travel with
every request, so an edit re-renders the tree as the user was looking at it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, InvalidInput, NotFound
from core.htmx import wants_fragment
from core.selectors import job_recent
from core.uploads import read_upload
from core.views import member
from labelling import selectors as labelling_selectors
from taxonomy import exports, round_import, selectors, services, suggestion_selectors
from taxonomy.models import Comparison
from taxonomy.svg import figure_svg, growth_chart_svg

MAX_SUGGESTED = 60  # unmapped labels shown with suggestions


def _can_edit(membership) -> bool:
    return bool(membership.is_lead or membership.is_moderator)


def _selected(params) -> tuple[str, int] | None:
    """("node"|"leaf", id) from `selected=node-5`, `node=5` or `leaf=7`."""
    raw = params.get("selected") or ""
    if "-" in raw:
        kind, _, value = raw.partition("-")
        if kind in ("node", "leaf") and value.isdecimal():
            return kind, int(value)
    for kind in ("node", "leaf"):
        value = params.get(kind) or ""
        if value.isdecimal():
            return kind, int(value)
    return None


def _view_params(params) -> list[tuple[str, str]]:
    """The filter and search parameters to carry on links."""
    pairs = [("source", s) for s in params.getlist("source") if s]
    for key in ("round", "q"):
        if params.get(key):
            pairs.append((key, params.get(key)))
    return pairs


def workspace_context(request, project, membership, params, *, selected=None, notice: str = "") -> dict:
    filters = selectors.filters_from_params(params, project=project)
    q = (params.get("q") or "").strip()
    tree = selectors.tree_build(project, filters=filters, q=q)
    rows = selectors.new_categories_by_round(project)
    cumulative = selectors.cumulative_categories(rows)
    rounds = [row["round"] for row in rows if row["round"] is not None]
    unmapped = selectors.unmapped_labels(project, filters)
    suggested = (
        suggestion_selectors.unmapped_label_suggestions(project=project, unmapped=unmapped[:MAX_SUGGESTED])
        if _can_edit(membership)
        else {}
    )
    context = {
        "project": project,
        "membership": membership,
        "can_edit": _can_edit(membership),
        "tree": tree,
        "filters": filters,
        "q": q,
        "source_choices": selectors.SOURCE_CHOICES,
        "rounds": rounds,
        "unmapped": unmapped,
        # moderators and leads only: where each unmapped label may belong ("attach to …")
        "unmapped_rows": [(u, suggested.get(u.label_id, [])) for u in unmapped],
        "attach_forms": [(u.value, suggested[u.label_id]) for u in unmapped if u.label_id in suggested],
        "category_rows": rows,
        "levels": max((len(r["new_inner"]) for r in rows), default=0),
        "saturation": selectors.saturation_round(rows),
        "cumulative": cumulative,
        "chart_svg": growth_chart_svg(cumulative),
        "figure_svg": figure_svg(tree, standalone=False),
        "history": list(selectors.change_list(project, limit=12)),
        "last_change": selectors.change_last_undoable(project),
        "node_options": tree.node_options(),
        "view_query": urlencode(_view_params(params)),
        "notice": notice,
        "unrounded": next((r for r in rows if r["round"] is None), None),
    }
    context.update(_panel_context(project, tree, selected))
    return context


def _panel_context(project, tree, selected) -> dict:
    if not selected:
        return {"panel": None}
    kind, object_id = selected
    if kind == "node" and object_id in tree.nodes:
        entry = tree.nodes[object_id]
        return {
            "panel": entry,
            "panel_path": tree.path(entry),
            "move_options": tree.node_options(exclude={entry.id, *tree.descendants(entry.id)}),
        }
    if kind == "leaf" and object_id in tree.leaves:
        entry = tree.leaves[object_id]
        leaf = selectors.leaf_get(project, object_id)
        return {
            "panel": entry,
            "panel_path": tree.path(entry),
            "instances": list(selectors.leaf_instances(leaf)),
            "move_options": [e for e in tree.node_options() if e.id != entry.parent_id],
        }
    return {"panel": None}


def _tree_url(project, selected=None, params=None) -> str:
    url = reverse("taxonomy:tree", args=[project.slug])
    pairs = _view_params(params) if params is not None else []
    if selected:
        pairs.append(selected_pair(selected))
    return f"{url}?{urlencode(pairs)}" if pairs else url


def selected_pair(selected) -> tuple[str, str]:
    return (selected[0], str(selected[1]))


def _after_edit(request, project, membership, *, selected=None, notice=""):
    """The re-rendered workspace for htmx, else a redirect back to the page."""
    if wants_fragment(request):
        context = workspace_context(request, project, membership, request.POST, selected=selected, notice=notice)
        return render(request, "taxonomy/partials/workspace.html", context)
    if notice:
        messages.success(request, notice)
    return redirect(_tree_url(project, selected, request.POST))


# --- the page -----------------------------------------------------------------------------


@login_required
@require_GET
def tree(request, slug):
    project, membership = member(request, slug)
    context = workspace_context(request, project, membership, request.GET, selected=_selected(request.GET))
    if wants_fragment(request) and request.headers.get("HX-Target") == "tx-workspace":
        return render(request, "taxonomy/partials/workspace.html", context)
    return render(request, "taxonomy/tree.html", context)


@login_required
@require_GET
def node_panel(request, slug, node_id):
    project, membership = member(request, slug)
    selectors.node_get(project, node_id)  # 404 for strangers' ids
    if not wants_fragment(request):
        return redirect(_tree_url(project, ("node", node_id), request.GET))
    filters = selectors.filters_from_params(request.GET, project=project)
    tree = selectors.tree_build(project, filters=filters)
    context = {"project": project, "membership": membership, "can_edit": _can_edit(membership), "tree": tree}
    context["rounds"] = labelling_selectors.round_list(project=project)
    context.update(_panel_context(project, tree, ("node", int(node_id))))
    return render(request, "taxonomy/partials/panel.html", context)


@login_required
@require_GET
def leaf_panel(request, slug, leaf_id):
    project, membership = member(request, slug)
    selectors.leaf_get(project, leaf_id)
    if not wants_fragment(request):
        return redirect(_tree_url(project, ("leaf", leaf_id), request.GET))
    filters = selectors.filters_from_params(request.GET, project=project)
    tree = selectors.tree_build(project, filters=filters)
    context = {"project": project, "membership": membership, "can_edit": _can_edit(membership), "tree": tree}
    context.update(_panel_context(project, tree, ("leaf", int(leaf_id))))
    return render(request, "taxonomy/partials/panel.html", context)


# --- edits ------------------------------------------------------------------------------------


@login_required
@require_POST
def node_create(request, slug):
    project, membership = member(request, slug)
    post = request.POST
    round_value = post.get("node_round", "").strip() or services._UNSET
    node = services.node_create(
        project=project,
        user=request.user,
        name=post.get("name", ""),
        parent=post.get("parent") or None,
        description=post.get("description", ""),
        code=post.get("code", ""),
        round=round_value,
    )
    return _after_edit(request, project, membership, selected=("node", node.id), notice=f'Created "{node.name}".')


@login_required
@require_POST
def node_update(request, slug, node_id):
    project, membership = member(request, slug)
    node = selectors.node_get(project, node_id)
    post = request.POST
    round_value = services._UNSET
    if "node_round" in post:
        round_value = post.get("node_round", "").strip() or None
    node = services.node_update(
        node=node,
        user=request.user,
        name=post.get("name") if "name" in post else None,
        description=post.get("description") if "description" in post else None,
        code=post.get("code") if "code" in post else None,
        round=round_value,
    )
    return _after_edit(request, project, membership, selected=("node", node.id), notice=f'Saved "{node.name}".')


@login_required
@require_POST
def node_move(request, slug, node_id):
    project, membership = member(request, slug)
    node = selectors.node_get(project, node_id)
    parent = request.POST.get("parent", "")
    node = services.node_move(node=node, user=request.user, parent=parent or None)
    where = f'"{node.parent.name}"' if node.parent_id else "the top level"
    return _after_edit(
        request, project, membership, selected=("node", node.id), notice=f'Moved "{node.name}" to {where}.'
    )


@login_required
@require_POST
def node_merge(request, slug, node_id):
    project, membership = member(request, slug)
    source = selectors.node_get(project, node_id, field_name="source")
    target_id = request.POST.get("target", "")
    if not target_id:
        raise InvalidInput("Choose the category to merge into.", field="target")
    target = selectors.node_get(project, target_id, field_name="target")
    name = source.name
    target = services.node_merge(source=source, target=target, user=request.user)
    return _after_edit(
        request, project, membership, selected=("node", target.id), notice=f'Merged "{name}" into "{target.name}".'
    )


@login_required
@require_POST
def node_delete(request, slug, node_id):
    project, membership = member(request, slug)
    node = selectors.node_get(project, node_id)
    name, parent_id = node.name, node.parent_id
    services.node_delete(node=node, user=request.user)
    selected = ("node", parent_id) if parent_id else None
    return _after_edit(request, project, membership, selected=selected, notice=f'Deleted "{name}".')


@login_required
@require_POST
def attach(request, slug):
    """Attach the chosen unmapped labels to a category, or to a new category created on the way."""
    project, membership = member(request, slug)
    post = request.POST
    labels = post.getlist("labels") + [f"name:{n}" for n in post.getlist("label_names") if n.strip()]
    if not labels:
        raise InvalidInput("Tick at least one label to attach.", field="labels")
    new_name = post.get("new_name", "").strip()
    with transaction.atomic():
        if new_name:
            node = services.node_create(
                project=project,
                user=request.user,
                name=new_name,
                parent=post.get("new_parent") or None,
                description=post.get("new_description", ""),
            )
        else:
            if not post.get("node"):
                raise InvalidInput("Choose a category, or name a new one.", field="node")
            node = selectors.node_get(project, post.get("node"))
        leaves = services.leaf_attach(project=project, user=request.user, node=node, labels=labels)
    notice = f'Attached {len(leaves)} label{"s" if len(leaves) != 1 else ""} to "{node.name}".'
    return _after_edit(request, project, membership, selected=("node", node.id), notice=notice)


@login_required
@require_POST
def leaf_move(request, slug, leaf_id):
    project, membership = member(request, slug)
    leaf = selectors.leaf_get(project, leaf_id)
    if not request.POST.get("node"):
        raise InvalidInput("Choose the category to move the leaf to.", field="node")
    leaf = services.leaf_move(leaf=leaf, user=request.user, node=request.POST.get("node"))
    notice = f'Moved "{leaf.label.name}" to "{leaf.node.name}".'
    return _after_edit(request, project, membership, selected=("leaf", leaf.id), notice=notice)


@login_required
@require_POST
def leaf_detach(request, slug, leaf_id):
    project, membership = member(request, slug)
    leaf = selectors.leaf_get(project, leaf_id)
    name, node_id = leaf.label.name, leaf.node_id
    services.leaf_detach(leaf=leaf, user=request.user)
    notice = f'"{name}" is unmapped again.'
    return _after_edit(request, project, membership, selected=("node", node_id), notice=notice)


@login_required
@require_POST
def undo(request, slug):
    project, membership = member(request, slug)
    change = services.change_undo(project=project, user=request.user)
    return _after_edit(
        request, project, membership, selected=_selected(request.POST), notice=f"Undone: {change.summary}."
    )


@login_required
@require_POST
def rounds_from_evidence(request, slug):
    project, membership = member(request, slug)
    changed = services.taxonomy_rounds_from_evidence(project=project, user=request.user)
    notice = f"{changed} categor{'y' if changed == 1 else 'ies'} now date from their first round with an artefact."
    return _after_edit(request, project, membership, notice=notice)


@login_required
@require_POST
def import_file(request, slug):
    """Upload the JSON export, an outline CSV (`code,name`) or a REFI-QDA codebook (lead or moderator): the
    upload is checked (size, a .qdpx's unpacked size, a CSV's shape) and imported in a job, whose page shows
    the report."""
    project, _ = member(request, slug)
    services.editor_require(project=project, user=request.user)
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput("Choose a file to import.", field="file")
    job = services.taxonomy_import_start(
        project=project, user=request.user, filename=upload.name, data=read_upload(upload, kind="taxonomy")
    )
    return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)


# --- files --------------------------------------------------------------------------------------


@login_required
@require_GET
def export(request, slug, fmt):
    project, membership = member(request, slug)
    if fmt not in exports.FORMATS:
        raise NotFound(f"No export as {fmt!r}; choose {', '.join(exports.FORMATS)}.", field="format")
    filters = selectors.filters_from_params(request.GET, project=project)
    body = exports.export(project, fmt, filters=filters)
    response = HttpResponse(body, content_type=exports.CONTENT_TYPES[fmt])
    disposition = "attachment" if request.GET.get("download") or fmt != "svg" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{exports.filename(project, fmt)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- history ----------------------------------------------------------------------------------


@login_required
@require_GET
def history(request, slug):
    project, membership = member(request, slug)
    changes = selectors.change_history(project=project)
    page = Paginator(changes, 50).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "membership": membership,
        "can_edit": _can_edit(membership),
        "page": page,
        "last_change": selectors.change_last_undoable(project),
    }
    return render(request, "taxonomy/history.html", context)


# --- comparisons ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def comparisons(request, slug):
    project, membership = member(request, slug)
    if request.method == "POST":
        comparison = services.comparison_create(
            project=project,
            user=request.user,
            name=request.POST.get("name", ""),
            kind=request.POST.get("kind", Comparison.Kind.TAXONOMY),
            description=request.POST.get("description", ""),
        )
        names = request.POST.get("classes", "")
        if names.strip():
            services.comparison_classes_add(comparison=comparison, user=request.user, names=names)
        return redirect("taxonomy:comparison", slug=project.slug, comparison_id=comparison.id)
    context = {
        "project": project,
        "membership": membership,
        "can_edit": _can_edit(membership),
        "comparisons": selectors.comparison_list(project),
        "kinds": Comparison.Kind.choices,
    }
    return render(request, "taxonomy/comparisons.html", context)


def _comparison_context(request, project, membership, comparison, *, editing=None) -> dict:
    tree = selectors.tree_build(project)
    coverage = selectors.comparison_coverage(comparison, tree)
    mapped: dict[int, list] = {}
    for key, classes in coverage.direct.items():
        kind, _, object_id = key.partition("-")
        entry = (tree.nodes if kind == "node" else tree.leaves).get(int(object_id))
        if entry is not None:
            for cls in classes:
                mapped.setdefault(cls.id, []).append(entry)
    context = {
        "project": project,
        "membership": membership,
        "can_edit": _can_edit(membership),
        "comparison": comparison,
        "tree": tree,
        "coverage": coverage,
        "rows": [(cls, mapped.get(cls.id, [])) for cls in coverage.classes],
        "kinds": Comparison.Kind.choices,
        "editing": editing,
        "entries": list(tree.walk()),
    }
    if editing is not None:
        context["editing_keys"] = {e.key for e in mapped.get(editing.id, [])}
    return context


@login_required
@require_http_methods(["GET", "POST"])
def comparison(request, slug, comparison_id):
    project, membership = member(request, slug)
    comparison = selectors.comparison_get(project, comparison_id)
    if request.method == "POST":
        action = request.POST.get("action", "update")
        if action == "delete":
            services.comparison_delete(comparison=comparison, user=request.user)
            return redirect("taxonomy:comparisons", slug=project.slug)
        if action == "add_classes":
            services.comparison_classes_add(
                comparison=comparison,
                user=request.user,
                names=request.POST.get("names", ""),
                description=request.POST.get("description", ""),
            )
        else:
            services.comparison_update(
                comparison=comparison,
                user=request.user,
                name=request.POST.get("name"),
                kind=request.POST.get("kind"),
                description=request.POST.get("description"),
            )
        if not wants_fragment(request):
            return redirect("taxonomy:comparison", slug=project.slug, comparison_id=comparison.id)
    editing = None
    if request.GET.get("edit"):
        editing = selectors.comparison_class_get(comparison, request.GET["edit"])
    context = _comparison_context(request, project, membership, comparison, editing=editing)
    template = "taxonomy/comparison.html"
    if wants_fragment(request) and request.headers.get("HX-Target") == "comparison-body":
        template = "taxonomy/partials/comparison_body.html"
    return render(request, template, context)


@login_required
@require_POST
def comparison_class(request, slug, comparison_id, class_id):
    project, membership = member(request, slug)
    comparison = selectors.comparison_get(project, comparison_id)
    cls = selectors.comparison_class_get(comparison, class_id)
    if request.POST.get("action") == "delete":
        services.comparison_class_delete(cls=cls, user=request.user)
    else:
        targets = request.POST.getlist("targets")
        node_ids = [t.split("-", 1)[1] for t in targets if t.startswith("node-")]
        leaf_ids = [t.split("-", 1)[1] for t in targets if t.startswith("leaf-")]
        services.comparison_class_update(
            cls=cls,
            user=request.user,
            name=request.POST.get("name"),
            description=request.POST.get("description"),
            node_ids=node_ids if "targets_sent" in request.POST else None,
            leaf_ids=leaf_ids if "targets_sent" in request.POST else None,
        )
    if wants_fragment(request):
        context = _comparison_context(request, project, membership, comparison)
        return render(request, "taxonomy/partials/comparison_body.html", context)
    return redirect("taxonomy:comparison", slug=project.slug, comparison_id=comparison.id)


# --- labelled rounds from the study's spreadsheets --------------------------------------------


class RoundUploadForm(forms.Form):
    file = forms.FileField(help_text="XLSX in the study's layout, or CSV with the first sheet's columns.")
    round = forms.IntegerField(min_value=1, max_value=2**31 - 1, label="Round number")
    outline = forms.FileField(required=False, help_text="Optional code,name CSV naming the taxonomy's categories.")


@login_required
@require_http_methods(["GET", "POST"])
def import_round(request, slug):
    project, membership = member(request, slug, roles=("lead",))
    next_number = labelling_selectors.round_next_number(project=project)
    form = RoundUploadForm(request.POST or None, request.FILES or None, initial={"round": next_number})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload, outline = form.cleaned_data["file"], form.cleaned_data["outline"]
            try:
                job = round_import.round_import_job_create(
                    project=project,
                    user=request.user,
                    number=form.cleaned_data["round"],
                    input_name=upload.name,
                    input_data=read_upload(upload, kind="round"),
                    outline_data=read_upload(outline, kind="taxonomy", field="outline") if outline else None,
                    outline_name=outline.name if outline else "",
                )
            except DomainError as error:
                if error.status_code >= 403:
                    raise
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                status = error.status_code
            else:
                return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
        else:
            status = 400
    rounds = labelling_selectors.round_list(project=project)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "rounds": rounds,
        "jobs": job_recent(project=project),
    }
    return render(request, "taxonomy/import_round.html", context, status=status)


# --- the codebook's categories (issue 9) --------------------------------------------------------


@login_required
@require_GET
def codebook(request, slug):
    """The categories with their descriptions and examples: the codebook panel's part (htmx) or a page."""
    project, membership = member(request, slug)
    context = {
        "project": project,
        "membership": membership,
        "categories": selectors.codebook_categories(project=project),
    }
    template = "taxonomy/partials/codebook.html" if wants_fragment(request) else "taxonomy/codebook.html"
    return render(request, template, context)
