"""The vocabulary page (/p/<slug>/vocabulary/): flag frequent words as relevant or not, build the
stem index, see which artefacts the relevant vocabulary keeps.

One URL serves the page and its fragments: an htmx request targeting `#vocab-terms` gets
the term table, `#vocab-job` the index job's progress (polled until it finishes); a flag
posted by htmx gets its table row back. Every member may see the page and flag; only leads
build the index (403 otherwise); non-members get 404.
"""

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from collection import selectors as vs
from collection import services
from collection import services as vocabulary_services
from collection.importers.headers import MAPPING_CHOICES
from core import csv_safe
from core.errors import DomainError, InvalidInput, NotFound
from core.htmx import poll_ends, render_page_or_fragment, wants_fragment
from core.jobs import job_progress
from core.models import Job
from core.selectors import job_recent, project_members
from core.uploads import read_upload
from core.views import member

PAGE_SIZE = 50
PREVIEW_SIZE = 10


class VocabularyFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Word")
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *((s, label) for s, label in vs.Status.choices)],
    )
    mine = forms.ChoiceField(
        required=False,
        choices=[("", "Flagged or not by me"), ("unflagged", "Not flagged by me yet"), ("flagged", "Flagged by me")],
        label="Mine",
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("frequency", "Most frequent first"), ("word", "Alphabetical"), ("flags", "Most flagged first")],
    )
    min = forms.IntegerField(required=False, min_value=0, max_value=10**9, label="Min. artefacts")


def _filters(request):
    form = VocabularyFilterForm(request.GET)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(f"{field}: {' '.join(errors)}", field=field)
    data = form.cleaned_data
    return form, {
        "query": data["q"],
        "status": data["status"],
        "mine": data["mine"],
        "sort": data["sort"] or "frequency",
        "min_count": data["min"] or 0,
    }


def _page_url(project, request) -> str:
    query = request.GET.urlencode()
    return reverse("collection:vocabulary", args=[project.slug]) + (f"?{query}" if query else "")


@login_required
@require_http_methods(["GET", "POST"])
def vocabulary(request, slug):
    project, membership = member(request, slug)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "flag":
            return _flag(request, project, membership)
        if action == "index":
            return _index(request, project, membership)
        raise InvalidInput("Unknown action; choose flag or index.", field="action")

    target = request.headers.get("HX-Target") if wants_fragment(request) else None
    if target == "vocab-job":
        job = vs.vocabulary_jobs(project=project).first()
        response = render(request, "collection/partials/vocabulary_job.html", {"project": project, "job": job})
        if job is None or job.is_finished:
            response["HX-Refresh"] = "true"  # the poll ends: reload for the new terms and counts
        return response
    form, filters = _filters(request)
    terms = vs.vocabulary_terms(project=project, user=request.user, **filters)
    context = {
        "project": project,
        "membership": membership,
        "filters": form,
        "page": Paginator(terms, PAGE_SIZE).get_page(request.GET.get("page")),
        "here": _page_url(project, request),
    }
    if target == "vocab-terms":
        return render(request, "collection/partials/vocabulary_terms.html", context)
    context.update(
        summary=vs.vocabulary_summary(project=project),
        preview=vs.matching_preview(project=project, limit=PREVIEW_SIZE),
        job=vs.vocabulary_jobs(project=project).first(),
    )
    return render(request, "collection/vocabulary.html", context)


def _flag(request, project, membership):
    term = vocabulary_services.term_flag(
        project=project,
        term_id=request.POST.get("term_id"),
        user=request.user,
        verdict=request.POST.get("verdict") or "",
    )
    if wants_fragment(request):
        row = vs.vocabulary_term(project=project, user=request.user, term_id=term.id)
        if row is None:  # deleted by an index refresh a moment ago
            raise NotFound("No such term in this project.", field="term_id")
        context = {"project": project, "membership": membership, "t": row, "here": _page_url(project, request)}
        return render(request, "collection/partials/vocabulary_row.html", context)
    return redirect(_page_url(project, request) + f"#term-{term.id}")


def _index(request, project, membership):
    """Start (or join) an index build, then back to the page, whose job panel polls until it finishes."""
    job = vocabulary_services.vocabulary_index_start(project=project, user=request.user)  # 403 for non-leads
    job.refresh_from_db(fields=["status", "message"])
    if job.is_finished:  # eager Celery (no REDIS_URL): it ran already
        messages.success(request, job.message or "The vocabulary index is up to date.")
    else:
        messages.info(request, "The vocabulary index is being built; the progress bar follows it.")
    return redirect(_page_url(project, request))


# --- artefact imports: upload → column mapping → job -----------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV, JSON, JSON Lines or XLSX.")


@login_required
@require_http_methods(["GET", "POST"])
def import_artefacts(request, slug):
    project, membership = member(request, slug, roles=("lead",))
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.artefacts_import_job_create(
                    project=project,
                    user=request.user,
                    input_name=upload.name,
                    input_data=read_upload(upload, kind="artefacts"),
                )
            except DomainError as error:
                if error.status_code >= 403:
                    raise
                form.add_error("file", error.message)
                status = error.status_code
            else:
                return redirect("collection:import_artefacts_mapping", slug=project.slug, job_id=job.id)
        else:
            status = 400
    context = {"project": project, "membership": membership, "form": form, "jobs": job_recent(project=project)}
    return render(request, "collection/import_artefacts.html", context, status=status)


def _posted_mapping(request, columns: int) -> dict[int, str]:
    mapping = {}
    for index in range(columns):
        choice = request.POST.get(f"col{index}", "ignore")
        if choice in MAPPING_CHOICES and choice != "ignore":
            mapping[index] = choice
    return mapping


def _import_reading(request, project, membership, job):
    """The upload's preview is being read in Celery: the job's progress, polled (htmx) until it is there."""
    context = {"project": project, "membership": membership, "job": job, "progress": job_progress(job)}
    return render_page_or_fragment(
        request,
        "collection/import_artefacts_reading.html",
        context,
        partial="collection/partials/import_artefacts_reading.html",
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_artefacts_mapping(request, slug, job_id):
    """The upload's preview (first rows, guessed mapping), read once by the job's Celery step and stored on
    the job; while it is being read the page shows the job's progress. Posting the mapping starts the import."""
    project, membership = member(request, slug, roles=("lead",))
    job = vs.artefacts_import_job(project=project, job_id=job_id)
    preview = job.params.get("preview") if job.status == Job.Status.PENDING else None
    if wants_fragment(request) and (preview is not None or job.status != Job.Status.PENDING):
        return poll_ends()  # the mapping form, or the job's page with its error
    if job.status != Job.Status.PENDING:
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    if preview is None:
        return _import_reading(request, project, membership, job)
    guessed = {int(k): v for k, v in preview["mapping"].items()}
    exchange = preview["exchange"]
    flagged = set(exchange["flagged"]) if exchange else set()
    error, status = None, 200
    if request.method == "POST":
        mapping = _posted_mapping(request, len(preview["header"]))
        try:
            services.artefacts_import_job_set_mapping(job=job, user=request.user, mapping=mapping)
        except DomainError as exc:
            if exc.status_code >= 403:
                raise
            error, status, guessed = exc.message, exc.status_code, mapping
        else:
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    context = {
        "project": project,
        "membership": membership,
        "job": job,
        "columns": [
            {"index": i, "header": h or f"(column {i + 1})", "field": guessed.get(i, "ignore"), "flagged": h in flagged}
            for i, h in enumerate(preview["header"])
        ],
        "choices": MAPPING_CHOICES,
        "preview": preview["rows"],
        "total_rows": preview["total_rows"],
        "repaired": preview["repaired"],
        "problems": preview["problems"],
        "error": error,
        "exchange": exchange,
    }
    return render(request, "collection/import_artefacts_mapping.html", context, status=status)


# --- repositories (/p/<slug>/repositories/): the study's GitHub selection -------------------------


class RepositoryFilterForm(forms.Form):
    framework = forms.CharField(required=False)
    state = forms.ChoiceField(required=False, choices=[("", "All"), ("selected", "Selected"), ("excluded", "Excluded")])
    q = forms.CharField(required=False, max_length=200)
    sort = forms.ChoiceField(required=False, choices=[(k, k.replace("_", " ")) for k in vs.REPOSITORY_SORTS])


RULE_FIELDS = ("min_contributors", "require_open_issues", "min_commits", "min_stars", "min_forks", "exclude_forks")


def _repository_post(request, project):
    action = request.POST.get("action")
    if action in ("exclude", "include"):
        change = services.repository_exclude if action == "exclude" else services.repository_include
        repo = change(
            project=project,
            user=request.user,
            repository_id=int(request.POST.get("repository_id") or 0),
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"{repo.url}: {'excluded' if action == 'exclude' else 'included'}.")
    elif action == "mine":
        run = services.mining_github_prepare(
            project=project,
            framework=request.POST.get("framework", ""),
            repositories_text=request.POST.get("repositories", ""),
        )
        services.mining_job_start(run=run, user=request.user)
        messages.info(request, f"Mining run {run.pk} queued; its progress shows below.")
    elif action == "rules":
        rules = {}
        for name in RULE_FIELDS:
            if name in ("require_open_issues", "exclude_forks"):
                rules[name] = request.POST.get(name) == "on"
            else:
                try:
                    rules[name] = int(request.POST.get(name) or 0)
                except ValueError:
                    raise InvalidInput(f"{name} must be a whole number.", field=name) from None
        services.repository_rules_set(project=project, user=request.user, rules=rules)
        messages.success(request, "Rules saved; every repository was checked again.")
    else:
        raise InvalidInput("Unknown action; choose exclude, include or rules.", field="action")
    return redirect(request.get_full_path())


@login_required
@require_http_methods(["GET", "POST"])
def repositories(request, slug):
    project, membership = member(request, slug)
    if request.method == "POST":
        return _repository_post(request, project)
    form = RepositoryFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    listing = vs.repositories(
        project=project,
        framework=data.get("framework", ""),
        state=data.get("state", ""),
        query=data.get("q", ""),
        sort=data.get("sort") or "url",
    )
    context = {
        "project": project,
        "membership": membership,
        "filters": form,
        "frameworks": vs.repository_frameworks(project=project),
        "page": Paginator(listing, PAGE_SIZE).get_page(request.GET.get("page")),
        "report": vs.repository_rule_report(project=project, framework=data.get("framework", "")),
        "rules": vs.repository_rules(project=project).as_dict(),
        "runs": vs.mining_runs(project=project),
    }
    return render(request, "collection/repositories.html", context)


# --- the vocabulary workflow: settings, batches, meeting, word lists ----------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def vocabulary_workflow(request, slug):
    """Settings (stop words, long tail), batches per member with their progress, word-list import (a job)."""
    project, membership = member(request, slug)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "settings":
            services.vocabulary_settings_set(
                project=project,
                user=request.user,
                keep_stop_words=request.POST.get("keep_stop_words") == "on",
                long_tail_min=_whole(request.POST.get("long_tail_min"), "long_tail_min"),
            )
            messages.success(request, "Settings saved; rebuild the index to apply a stop-word change.")
        elif action == "batches":
            batches = services.vocabulary_batches_create(
                project=project, user=request.user, members=request.POST.getlist("members")
            )
            messages.success(request, f"{len(batches)} batches created.")
        elif action == "import_words":
            job = _import_words(request, project)
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
        else:
            raise InvalidInput("Unknown action.", field="action")
        return redirect("collection:vocabulary_workflow", slug=project.slug)
    context = {
        "project": project,
        "membership": membership,
        "settings": vs.collection_settings(project=project),
        "batches": vs.vocabulary_batches(project=project),
        "above_tail": vs.vocabulary_above_tail(project=project).count(),
        "members": project_members(project=project),
        "final_words": len(vs.vocabulary_word_list(project=project, which="final")),
    }
    return render(request, "collection/vocabulary_workflow.html", context)


def _import_words(request, project) -> Job:
    """A lead's or moderator's word list: its size checked before it is read and its CSV shape after (a 4xx
    naming the field, nothing stored); it is parsed in a job, whose page shows the report."""
    member(request, project.slug, roles=services.WORD_LIST_ROLES)  # 403 before the upload is read
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput("Choose a word list (word,n_documents).", field="file")
    return services.vocabulary_words_import_start(
        project=project,
        user=request.user,
        filename=upload.name,
        data=read_upload(upload, kind="vocabulary"),
        final=request.POST.get("final") == "on",
    )


def _whole(value, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number.", field=name) from None


@login_required
@require_http_methods(["GET", "POST"])
def vocabulary_batch(request, slug, number):
    """One batch's words, flagged by its member (anyone may look; flags are each member's own)."""
    project, membership = member(request, slug)
    if request.method == "POST":
        services.term_flag(
            project=project,
            term_id=request.POST.get("term_id"),
            user=request.user,
            verdict=request.POST.get("verdict") or "",
        )
        return redirect(request.get_full_path())
    terms = vs.vocabulary_batch_terms(project=project, batch_number=number, user=request.user)
    batch = next((b for b in vs.vocabulary_batches(project=project) if b["number"] == number), None)
    if batch is None:
        raise NotFound("No such batch.")
    context = {
        "project": project,
        "membership": membership,
        "batch": batch,
        "page": Paginator(terms, 100).get_page(request.GET.get("page")),
    }
    return render(request, "collection/vocabulary_batch.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def vocabulary_meeting(request, slug):
    """The moderators decide each flagged word: the relevant ones are the final vocabulary."""
    project, membership = member(request, slug, roles=("lead", "moderator"))
    if request.method == "POST":
        services.term_decide(
            project=project,
            user=request.user,
            term_id=_whole(request.POST.get("term_id"), "term_id"),
            verdict=request.POST.get("verdict") or "",
        )
        return redirect(request.get_full_path())
    which = request.GET.get("show") if request.GET.get("show") in vs.MEETING_FILTERS else "flagged"
    terms = vs.vocabulary_meeting_terms(project=project, which=which)
    context = {
        "project": project,
        "membership": membership,
        "show": which,
        "filters": vs.MEETING_FILTERS,
        "page": Paginator(terms, 100).get_page(request.GET.get("page")),
        "final_words": len(vs.vocabulary_word_list(project=project, which="final")),
    }
    return render(request, "collection/vocabulary_meeting.html", context)


@login_required
def vocabulary_words_export(request, slug):
    """The word list in the study's layout: `word,n_documents` (?list=final, the default, or all)."""
    project, _ = member(request, slug)
    which = "all" if request.GET.get("list") == "all" else "final"
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\n")
    writer.writerow(["word", "n_documents"])
    writer.writerows(vs.vocabulary_word_list(project=project, which=which))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}_vocabulary_{which}.csv"'
    return response
