"""Survey pages. Thin: reads from selectors, writes through services; one URL serves the page
and its htmx fragment (`HX-Request`).

Leads and moderators see the surveys and their results (others in the project get 403,
non-members 404); leads create, open, close and delete them. Respondents need no account:
`take` (the survey's shareable token) starts a response, `respond` (the response's own
token) shows, saves and submits it.
"""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from core.api.throttles import survey_write_wait
from core.errors import Conflict, DomainError, InvalidInput
from core.htmx import poll_ends, render_page_or_fragment, wants_fragment
from core.jobs import job_progress
from core.models import Job
from core.uploads import limits_for, read_upload
from core.views import member
from validation import forms, selectors, services
from validation.models import Response, Survey

READERS = ("lead", "moderator")


def _share_url(request, survey: Survey) -> str:
    return request.build_absolute_uri(reverse("survey:take", args=[survey.token]))


# --- leads and moderators -------------------------------------------------------------------


@login_required
@require_GET
@vary_on_headers("HX-Request")
def survey_list(request, slug):
    project, membership = member(request, slug, READERS)
    page = Paginator(selectors.survey_list(project), 25).get_page(request.GET.get("page"))
    context = {"project": project, "membership": membership, "page": page}
    return render_page_or_fragment(
        request, "validation/list.html", context, partial="validation/partials/survey_table.html"
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def survey_create(request, slug):
    project, membership = member(request, slug, ("lead",))
    tree = selectors.taxonomy_tree(project)
    entries = list(tree.walk())
    status = 200
    if request.method == "POST":
        form = forms.SurveyCreateForm(request.POST, entries=entries)
        checked = set(request.POST.getlist("categories"))
        levels, include_leaves = None, False
        if form.is_valid():
            data = form.cleaned_data
            nodes, leaves = form.selection()
            try:
                survey = services.survey_create(
                    project=project,
                    user=request.user,
                    title=data["title"],
                    intro=data["intro"],
                    node_ids=nodes,
                    leaf_ids=leaves,
                    ask_severity=data["ask_severity"],
                    ask_effort=data["ask_effort"],
                    severity_scale=data.get("scales") or "study",
                    effort_scale=data.get("scales") or "study",
                    ask_comment=data["ask_comment"],
                    ask_background=data["ask_background"],
                    ask_missing=data["ask_missing"],
                )
            except DomainError as error:
                forms.attach_error(form, error)
                status = error.status_code
            else:
                messages.success(request, f"Survey “{survey.title}” created as a draft. Open it to share the link.")
                return redirect("validation:survey", slug=project.slug, survey_id=survey.id)
        else:
            status = 400
    else:
        levels, include_leaves = forms.preselection(request.GET)
        checked = {e.key for e in selectors.default_selection(tree, levels=levels, include_leaves=include_leaves)}
        form = forms.SurveyCreateForm(entries=entries)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "entries": entries,
        "checked": checked,
        "levels": list(range(1, tree.max_depth + 1)),
        "chosen_levels": levels or set(),
        "include_leaves": include_leaves,
        "has_leaves": bool(tree.leaves),
    }
    if wants_fragment(request) and request.method == "GET":
        return render(request, "validation/partials/category_picker.html", context)
    return render(request, "validation/create.html", context, status=status)


def _survey_context(request, project, membership, survey):
    return {
        "project": project,
        "membership": membership,
        "survey": survey,
        "categories": selectors.survey_categories(survey),
        "share_url": _share_url(request, survey) if membership.is_lead else "",
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def survey_detail(request, slug, survey_id):
    """The survey: its status and link, its questions; Table 2 is loaded from the reports app."""
    project, membership = member(request, slug, READERS)
    survey = selectors.survey_get(project, survey_id)
    context = _survey_context(request, project, membership, survey)
    return render_page_or_fragment(
        request, "validation/survey.html", context, partial="validation/partials/status.html"
    )


@login_required
@require_POST
def survey_status(request, slug, survey_id):
    """POST action=open|close (lead)."""
    project, membership = member(request, slug, ("lead",))
    survey = selectors.survey_get(project, survey_id)
    action = request.POST.get("action")
    if action == "open":
        survey = services.survey_open(survey=survey, user=request.user)
        note = "The survey is open: share the link below."
    elif action == "close":
        survey = services.survey_close(survey=survey, user=request.user)
        note = "The survey is closed; it accepts no more answers."
    else:
        raise InvalidInput("Choose open or close.", field="action")
    if wants_fragment(request):
        context = {"project": project, "membership": membership, "survey": survey, "note": note}
        context["share_url"] = _share_url(request, survey)
        return render(request, "validation/partials/status.html", context)
    messages.success(request, note)
    return redirect("validation:survey", slug=project.slug, survey_id=survey.id)


@login_required
@require_POST
def survey_delete(request, slug, survey_id):
    project, _ = member(request, slug, ("lead",))
    survey = selectors.survey_get(project, survey_id)
    title = survey.title
    services.survey_delete(survey=survey, user=request.user)
    messages.success(request, f"Survey “{title}” deleted.")
    return redirect("validation:list", slug=project.slug)


# --- respondents (no account) ---------------------------------------------------------------


def _session_key(survey: Survey) -> str:
    return f"validation-survey-{survey.id}"


def _too_many(wait: float) -> str:
    return f"Too many answers sent from here just now; try again in {math.ceil(wait)} seconds."


@never_cache
@require_http_methods(["GET", "POST"])
def take(request, token):
    """The shareable link: the introduction and a button that starts (or resumes) a response."""
    survey = selectors.survey_get_by_token(token)
    status, error = 200, None
    wait = survey_write_wait(request, token) if request.method == "POST" else None
    if wait:
        status, error = 429, _too_many(wait)
    elif request.method == "POST":
        try:
            response = services.response_start(survey_token=token)
        except Conflict as exc:
            status, error = exc.status_code, exc.message
        else:
            request.session[_session_key(survey)] = response.token
            return redirect("survey:respond", token=response.token)
    resume = selectors.response_resume(survey=survey, token=request.session.get(_session_key(survey)))
    context = {
        "survey": survey,
        "resume": resume,
        "n_categories": survey.categories.count(),
        "error": error,
        "closed_message": "" if survey.is_open else services.closed_message(survey),
    }
    return render(request, "validation/take.html", context, status=status)


def _question_rows(categories, answers, posted=None, problems=None) -> list[dict]:
    """What each category's fieldset shows: saved answers, or what was just posted, and its problems."""
    problems = problems or {}
    rows = []
    for category in categories:
        if posted is not None:
            values = {
                what: posted.get(forms.field_name(category.id, what), "")
                for what in ("encountered", "severity", "effort", "comment")
            }
        else:
            answer = answers.get(category.id)
            values = {
                "encountered": "" if answer is None else ("yes" if answer.encountered else "no"),
                "severity": "" if answer is None or answer.severity is None else str(answer.severity),
                "effort": "" if answer is None or answer.effort is None else str(answer.effort),
                "comment": "" if answer is None else answer.comment,
            }
        errors = [m for key, msgs in problems.items() if key.startswith(f"answers.{category.id}.") for m in msgs]
        rows.append({"category": category, "errors": errors, **values})
    return rows


def _problem_list(problems: dict, category_ids: set[int]) -> list[dict]:
    """Each problem with the anchor of the question it concerns (`answers.<id>.<field>` → `q-<id>`)."""
    out = []
    for key, msgs in problems.items():
        parts = key.split(".")
        anchor = ""
        if len(parts) > 1 and parts[0] == "answers" and parts[1].isdecimal() and int(parts[1]) in category_ids:
            anchor = f"q-{parts[1]}"
        out += [{"anchor": anchor, "message": m} for m in msgs]
    return out


@never_cache
@require_http_methods(["GET", "POST"])
def respond(request, token):
    """A respondent's own page: the questions, saved as they go, submitted once."""
    response = selectors.response_get_by_token(token)
    survey = response.survey
    categories = selectors.survey_categories(survey)
    status, problems, error, posted = 200, {}, None, None
    wait = survey_write_wait(request, token) if request.method == "POST" else None
    if wait:
        status, error, posted = 429, _too_many(wait), request.POST
    elif request.method == "POST":
        submit = request.POST.get("action") == "submit"
        try:
            services.response_save(
                response_token=token,
                answers=forms.answers_from_post(request.POST, categories),
                background=forms.background_from_post(request.POST) if survey.ask_background else None,
                missing_faults=request.POST.get("missing_faults", "") if survey.ask_missing else None,
                submit=submit,
            )
        except services.SurveyInputError as exc:
            status, problems, error, posted = exc.status_code, exc.problems, exc.message, request.POST
        except DomainError as exc:
            status, error, posted = exc.status_code, exc.message, request.POST
        else:
            if submit:
                messages.success(request, "Thank you! Your answers are submitted.")
            else:
                messages.success(request, "Your answers are saved. Come back to this page's address to finish.")
            return redirect("survey:respond", token=token)
        response.refresh_from_db()
    answers = selectors.response_answers(response) if posted is None else {}
    if posted is not None:
        background = {
            "role": posted.get("role", ""),
            "experience_years": posted.get("experience_years", ""),
            "frameworks": posted.getlist("frameworks"),
            "frameworks_other": posted.get("frameworks_other", ""),
        }
        missing = posted.get("missing_faults", "")
    else:
        saved = selectors.response_frameworks(response)
        known = set(forms.FRAMEWORKS)
        background = {
            "role": response.role,
            "experience_years": "" if response.experience_years is None else str(response.experience_years),
            "frameworks": [f for f in saved if f in known],
            "frameworks_other": ", ".join(f for f in saved if f not in known),
        }
        missing = response.missing_faults
    rows = _question_rows(categories, answers, posted, problems)
    context = {
        "survey": survey,
        "response": response,
        "rows": rows,
        "answered": sum(1 for r in rows if r["encountered"] in ("yes", "no")),
        "background": background,
        "missing": missing,
        "problems": problems,
        "general_problems": [m for key, msgs in problems.items() if not key.startswith("answers.") for m in msgs],
        "problem_list": _problem_list(problems, {c.id for c in categories}),
        "error": error,
        "roles": Response.Role.choices,
        "frameworks": forms.FRAMEWORKS,
        "severity_scale": forms.scale(survey.scale("severity")),
        "effort_scale": forms.scale(survey.scale("effort")),
        "own_url": request.build_absolute_uri(reverse("survey:respond", args=[response.token])),
        "closed_message": "" if survey.is_open else services.closed_message(survey),
    }
    return render(request, "validation/respond.html", context, status=status)


# --- responses collected elsewhere, and participants (lead) -------------------------------------------

NOT_SHOWN_ON_THE_FORM = (403, 404)  # NotAllowed, NotFound of the project or job: the error page


@login_required
@require_http_methods(["GET", "POST"])
def survey_import(request, slug):
    """Upload an export: its size, an XLSX's entries and unpacked size and a CSV's shape are checked here
    (a 4xx naming the file field, no job); it is read once in Celery, and its preview page follows."""
    project, membership = member(request, slug, ("lead",))
    context = {"project": project, "membership": membership, "limit": limits_for("survey").size}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise InvalidInput("Choose the exported file (CSV or XLSX).", field="file")
            job = services.survey_import_job_create(
                project=project,
                user=request.user,
                input_name=upload.name,
                input_data=read_upload(upload, kind="survey", field="file"),
            )
        except DomainError as error:
            if error.status_code in NOT_SHOWN_ON_THE_FORM:
                raise
            context.update(error=error.message, error_field=error.field or "file")
            status = error.status_code
        else:
            return redirect("validation:import_preview", slug=project.slug, job_id=job.id)
    return render(request, "validation/import.html", context, status=status)


def _import_reading(request, project, membership, job):
    """The export is being read in Celery: the job's progress, polled (htmx) until its preview is there."""
    context = {"project": project, "membership": membership, "job": job, "progress": job_progress(job)}
    return render_page_or_fragment(
        request, "validation/import_reading.html", context, partial="validation/partials/import_reading.html"
    )


def _mapping_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def survey_import_preview(request, slug, job_id):
    """How the export's column groups match the categories, from the group names its Celery step stored on
    the job (no file read here): shown again for another survey or mapping (action=preview); action=import
    stores the choice and starts the import job, whose page follows. While the file is being read, the
    job's progress."""
    project, membership = member(request, slug, ("lead",))
    job = selectors.survey_import_job(project=project, job_id=job_id)
    params = job.params or {}
    preview = params.get("preview") if job.status == Job.Status.PENDING else None
    started = job.status != Job.Status.PENDING or "mapping" in params
    if wants_fragment(request) and (preview is not None or started):
        return poll_ends()  # the preview, or the job's page with its error
    if started:
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    if preview is None:
        return _import_reading(request, project, membership, job)
    survey_id, mapping = request.POST.get("survey", ""), request.POST.get("mapping", "")
    context = {
        "project": project,
        "membership": membership,
        "job": job,
        "preview": preview,
        "surveys": list(selectors.survey_list(project)),
        "survey_id": survey_id,
        "mapping": mapping,
    }
    status, matched = 200, None
    try:
        survey = selectors.survey_get(project, survey_id) if survey_id else None
        if request.method == "POST" and request.POST.get("action") == "import":
            services.survey_import_job_start(job=job, user=request.user, survey=survey, mapping=_mapping_lines(mapping))
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
        matched = services.survey_responses_match(
            project=project, groups=preview["groups"], survey=survey, mapping=_mapping_lines(mapping)
        )
    except DomainError as error:
        if error.status_code in NOT_SHOWN_ON_THE_FORM and error.field is None:
            raise
        context.update(error=error.message, error_field=error.field or "")
        status = error.status_code if request.method == "POST" else 200  # a GET shows the page, and why
    if matched is not None:
        context.update(groups=matched.rows(), unmatched=matched.match.unmatched)
    return render(request, "validation/import_preview.html", context, status=status)
