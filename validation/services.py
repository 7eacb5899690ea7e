"""Writes of the validation survey. Keyword-only `<entity>_<action>` functions; each runs in
one transaction and raises a DomainError with nothing written when a rule is broken.

Leads create, open, close and delete surveys. Respondents need no account: they act through
the survey's token (to start a response) and their response's token (to save and submit).
A response is final once submitted; the response row is locked while it is written, so two
submits at once give one submission and a 409 for the other.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from core.jobs import job_enqueue, job_execute, job_input, job_reading, job_step, job_upload_start
from core.models import Job, Project
from core.progress import Progress
from core.selectors import membership_require
from validation import matching, qualtrics, selectors, tasks
from validation import participants as participant_sheets
from validation.models import (
    NUMERIC,
    SCALE_MAX,
    SCALE_MIN,
    STUDY_EFFORT,
    STUDY_SEVERITY,
    Answer,
    Participant,
    Response,
    ResponseFramework,
    Survey,
    SurveyCategory,
)

MAX_TITLE = 200
MAX_INTRO = 20_000
MAX_COMMENT = 2_000
MAX_MISSING = 10_000
MAX_FRAMEWORK = 60
MAX_FRAMEWORKS = 15
MAX_YEARS = 70
FRAMEWORK_CHOICES = ("TensorFlow", "Keras", "PyTorch", "scikit-learn", "JAX", "MXNet", "Caffe", "Theano")

YES = {"yes", "y", "true", "1", "on"}
NO = {"no", "n", "false", "0", "off"}


class SurveyInputError(InvalidInput):
    """Several problems with one submission, each under its field (`answers.<category id>.severity`…).

    `message` and `field` name the first problem; `problems` (and the API's JSON) hold them all."""

    def __init__(self, problems: dict[str, list[str]]):
        field = next(iter(problems))
        total = sum(len(v) for v in problems.values())
        message = problems[field][0]
        if total > 1:
            message += f" (and {total - 1} more problem{'s' if total > 2 else ''})"
        super().__init__(message, field=field)
        self.problems = problems

    def as_dict(self) -> dict:
        return self.problems


class _Problems(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise SurveyInputError(dict(self))


def lead_require(*, project: Project, user):
    return membership_require(project=project, user=user, roles=("lead",))


# --- surveys (leads) ------------------------------------------------------------------


def _title_validate(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("Give the survey a title.", field="title")
    title = title.strip()
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"A title has at most {MAX_TITLE} characters (this one has {len(title)}).", field="title")
    return title


def _intro_validate(intro) -> str:
    if intro is None:
        return ""
    if not isinstance(intro, str):
        raise InvalidInput("The introduction must be text.", field="intro")
    if len(intro) > MAX_INTRO:
        raise InvalidInput(f"The introduction has at most {MAX_INTRO} characters.", field="intro")
    return intro.strip()


def _id_list(values, field: str) -> set[int]:
    if values is None:
        return set()
    if isinstance(values, str | int):
        values = [values]
    ids = set()
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"Not an id: {value!r}.", field=field) from None
        if not 0 < number < 2**63:
            raise InvalidInput(f"Not an id: {value!r}.", field=field)
        ids.add(number)
    return ids


def _levels_validate(levels) -> set[int] | None:
    if levels is None or levels == [] or levels == ():
        return None
    found = set()
    for value in [levels] if isinstance(levels, str | int) else levels:
        try:
            level = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"A level is a whole number from 1, not {value!r}.", field="levels") from None
        if not 1 <= level <= 100:
            raise InvalidInput(f"A level is a whole number from 1, not {value!r}.", field="levels")
        found.add(level)
    return found


SCALE_PRESETS = {
    "study": {"severity": STUDY_SEVERITY, "effort": STUDY_EFFORT},
    "numeric": {"severity": NUMERIC, "effort": NUMERIC},
}
MAX_SCALE_LABEL = 40


def scale_validate(scale, question: str) -> list[str]:
    """The labels of an ordinal scale, lowest first: a list of 2–5 distinct labels, or a preset name
    ("study": Minor/Major/Critical and Low/Medium/High; "numeric": 1–5), or "A, B, C". None: the study's."""
    if scale is None or scale == "":
        scale = "study"
    if isinstance(scale, str) and scale.strip().lower() in SCALE_PRESETS:
        return list(SCALE_PRESETS[scale.strip().lower()][question])
    if isinstance(scale, str):
        scale = scale.split(",")
    field = f"{question}_scale"
    if not isinstance(scale, list | tuple) or not all(isinstance(v, str | int) for v in scale):
        raise InvalidInput(f"A {question} scale is a list of labels, lowest first.", field=field)
    labels = [" ".join(str(v).split()) for v in scale]
    labels = [v for v in labels if v]
    if not SCALE_MIN < len(labels) <= SCALE_MAX:
        raise InvalidInput(f"A {question} scale has 2 to {SCALE_MAX} levels.", field=field)
    if len({v.casefold() for v in labels}) != len(labels):
        raise InvalidInput(f"The levels of the {question} scale must differ.", field=field)
    if any(len(v) > MAX_SCALE_LABEL for v in labels) or {"yes", "no"} & {v.casefold() for v in labels}:
        raise InvalidInput(f"A {question} level is a short label (not yes or no).", field=field)
    return labels


def _categories_create(survey: Survey, tree, entries) -> None:
    """The survey's questions: one per taxonomy entry, in order, with its code, name, path and level."""
    SurveyCategory.objects.bulk_create(
        SurveyCategory(
            survey=survey,
            position=position,
            kind=SurveyCategory.Kind.LEAF if entry.is_leaf else SurveyCategory.Kind.NODE,
            source_id=entry.id,
            code=entry.code,
            name=entry.name,
            path=[e.name for e in tree.path(entry)],
            level=entry.depth,
            description=entry.description or "",
        )
        for position, entry in enumerate(entries, start=1)
    )


def survey_create(
    *,
    project: Project,
    user,
    title: str,
    intro: str = "",
    node_ids=None,
    leaf_ids=None,
    levels=None,
    include_leaves: bool = False,
    ask_severity: bool = True,
    ask_effort: bool = True,
    ask_comment: bool = True,
    ask_background: bool = True,
    ask_missing: bool = True,
    severity_scale=None,
    effort_scale=None,
) -> Survey:
    """A draft survey asking about the chosen categories of the project's current taxonomy.

    Categories are chosen explicitly (`node_ids`, `leaf_ids`) or, when both are None, by
    `levels` (inner nodes at those depths; None = every level) plus every leaf if
    `include_leaves`. Each chosen category's code, name, path and description are copied, in
    taxonomy order."""
    lead_require(project=project, user=user)
    title = _title_validate(title)
    intro = _intro_validate(intro)
    severity_scale = scale_validate(severity_scale, "severity")
    effort_scale = scale_validate(effort_scale, "effort")
    tree = selectors.taxonomy_tree(project)
    if node_ids is None and leaf_ids is None:
        chosen_levels = _levels_validate(levels)
        entries = selectors.default_selection(tree, levels=chosen_levels, include_leaves=bool(include_leaves))
        selection = {"levels": sorted(chosen_levels) if chosen_levels else "all", "leaves": bool(include_leaves)}
    else:
        nodes, leaves = _id_list(node_ids, "node_ids"), _id_list(leaf_ids, "leaf_ids")
        unknown = sorted(nodes - tree.nodes.keys())
        if unknown:
            raise InvalidInput(f"No category {unknown[0]} in this project's taxonomy.", field="node_ids")
        unknown = sorted(leaves - tree.leaves.keys())
        if unknown:
            raise InvalidInput(f"No leaf {unknown[0]} in this project's taxonomy.", field="leaf_ids")
        entries = [e for e in tree.walk() if (e.id in leaves if e.is_leaf else e.id in nodes)]
        selection = {"manual": True}
    if not entries:
        if not tree.nodes:
            raise InvalidInput("The taxonomy has no categories yet; build it first.", field="categories")
        raise InvalidInput("Choose at least one category to ask about.", field="categories")
    if Survey.objects.filter(project=project, title=title).exists():
        raise InvalidInput(f"A survey titled {title!r} exists already in this project.", field="title")
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                project=project,
                title=title,
                intro=intro,
                ask_severity=bool(ask_severity),
                ask_effort=bool(ask_effort),
                ask_comment=bool(ask_comment),
                ask_background=bool(ask_background),
                ask_missing=bool(ask_missing),
                severity_scale=severity_scale,
                effort_scale=effort_scale,
                selection=selection,
                created_by=user,
            )
            _categories_create(survey, tree, entries)
    except IntegrityError:
        raise InvalidInput(f"A survey titled {title!r} exists already in this project.", field="title") from None
    return survey


def _locked_survey(survey_id: int, user) -> Survey:
    survey = Survey.objects.select_for_update().select_related("project").filter(pk=survey_id).first()
    if survey is None:
        raise NotFound("No such survey.")
    lead_require(project=survey.project, user=user)
    return survey


def survey_update(*, survey: Survey, user, title=None, intro=None) -> Survey:
    """Change the title or the introduction (the asked categories never change)."""
    lead_require(project=survey.project, user=user)
    fields = []
    if title is not None:
        survey.title = _title_validate(title)
        fields.append("title")
        if Survey.objects.filter(project=survey.project, title=survey.title).exclude(pk=survey.pk).exists():
            raise InvalidInput(f"A survey titled {survey.title!r} exists already in this project.", field="title")
    if intro is not None:
        survey.intro = _intro_validate(intro)
        fields.append("intro")
    if fields:
        try:
            with transaction.atomic():
                survey.save(update_fields=fields)
        except IntegrityError:
            raise InvalidInput(f"A survey titled {survey.title!r} exists already.", field="title") from None
    return survey


def survey_open(*, survey: Survey, user) -> Survey:
    """Open a draft (or reopen a closed survey) for answers; opening an open survey changes nothing."""
    with transaction.atomic():
        survey = _locked_survey(survey.pk, user)
        if survey.status != Survey.Status.OPEN:
            survey.status = Survey.Status.OPEN
            survey.opened_at = timezone.now()
            survey.closed_at = None
            survey.save(update_fields=["status", "opened_at", "closed_at"])
    return survey


def survey_close(*, survey: Survey, user) -> Survey:
    """Stop accepting answers; responses not submitted by now stay out of the results."""
    with transaction.atomic():
        survey = _locked_survey(survey.pk, user)
        if survey.status == Survey.Status.DRAFT:
            raise Conflict("This survey was never opened; there is nothing to close.", field="status")
        if survey.status == Survey.Status.OPEN:
            survey.status = Survey.Status.CLOSED
            survey.closed_at = timezone.now()
            survey.save(update_fields=["status", "closed_at"])
    return survey


def survey_delete(*, survey: Survey, user) -> None:
    """Delete a survey nobody has answered yet (otherwise close it)."""
    with transaction.atomic():
        survey = _locked_survey(survey.pk, user)
        if Response.objects.filter(survey=survey).exists():
            raise Conflict("People have started answering this survey; close it instead of deleting it.")
        survey.delete()


# --- responses (respondents, no account) ---------------------------------------------------


def closed_message(survey: Survey) -> str:
    if survey.status == Survey.Status.DRAFT:
        return "This survey is not open yet; it accepts no answers."
    return "This survey is closed; it no longer accepts answers."


def response_start(*, survey_token: str) -> Response:
    """A new, empty response to an open survey, with its own token to come back with."""
    survey = selectors.survey_get_by_token(survey_token)
    if not survey.is_open:
        raise Conflict(closed_message(survey), field="survey")
    return Response.objects.create(survey=survey)


@dataclass
class _CleanAnswer:
    category: SurveyCategory
    encountered: bool | None
    severity: int | None
    effort: int | None
    comment: str


def _yes_no(value) -> bool | None | str:
    """True/False, None for "no answer", or the string "bad"."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in YES:
        return True
    if text in NO:
        return False
    return "bad"


def _whole_number(value) -> int | None | str:
    """An int, None for blank, or the string "bad"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return "bad"
    if isinstance(value, float):
        return int(value) if value.is_integer() else "bad"
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return "bad"


def scale_position(value, labels: list[str]) -> int | None | str:
    """The 1-based level of `value` on a scale: its position (1..n, as a number) or its label
    (any case); None for blank; "bad" otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        text = value.strip().casefold()
        for position, label in enumerate(labels, start=1):
            if label.casefold() == text:
                return position
    number = _whole_number(value)
    if isinstance(number, int) and 1 <= number <= len(labels):
        return number
    return "bad"


def scale_text(labels: list[str]) -> str:
    if labels == NUMERIC[: len(labels)]:
        return f"a whole number from 1 to {len(labels)}"
    return "one of " + ", ".join(labels)


def _ratings_clean(survey: Survey, raw: dict, encountered, key: str, name: str, problems: _Problems) -> dict:
    ratings = {}
    for field, asked in (("severity", survey.ask_severity), ("effort", survey.ask_effort)):
        labels = survey.scale(field)
        value = scale_position(raw.get(field), labels)
        if value == "bad":
            problems.add(f"{key}.{field}", f"{name}: the {field} is {scale_text(labels)}.")
        elif value is not None and not asked:
            problems.add(f"{key}.{field}", f"{name}: this survey does not ask about {field}.")
        elif value is not None and encountered is not True:
            problems.add(f"{key}.{field}", f"{name}: rate the {field} only for a fault you encountered.")
        ratings[field] = value if isinstance(value, int) else None
    return ratings


def _comment_clean(survey: Survey, comment, encountered, key: str, name: str, problems: _Problems) -> str:
    comment = comment or ""
    if not isinstance(comment, str):
        problems.add(f"{key}.comment", f"{name}: a comment is text.")
        comment = ""
    comment = comment.strip()
    if comment and not survey.ask_comment:
        problems.add(f"{key}.comment", f"{name}: this survey takes no comments.")
    elif len(comment) > MAX_COMMENT:
        problems.add(f"{key}.comment", f"{name}: a comment has at most {MAX_COMMENT} characters.")
    elif comment and encountered is None:
        problems.add(f"{key}.encountered", f"{name}: answer yes or no before commenting.")
    return comment


def _answers_clean(survey: Survey, categories: dict[int, SurveyCategory], answers, problems: _Problems):
    """Each given answer checked against the survey's questions; problems named per category."""
    if answers is None:
        return []
    if isinstance(answers, dict):
        answers = [
            {"category": key, **(value if isinstance(value, dict) else {"encountered": value})}
            for key, value in answers.items()
        ]
    if not isinstance(answers, list | tuple):
        problems.add("answers", "Answers are a list of {category, encountered, severity, effort, comment}.")
        return []
    cleaned: dict[int, _CleanAnswer] = {}
    for index, raw in enumerate(answers):
        if not isinstance(raw, dict):
            problems.add(f"answers[{index}]", "Each answer is an object with its category.")
            continue
        try:
            category_id = int(raw.get("category"))
            category = categories[category_id]
        except (TypeError, ValueError, KeyError):
            problems.add(f"answers[{index}].category", f"No category {raw.get('category')!r} in this survey.")
            continue
        key = f"answers.{category_id}"
        name = category.display_name
        if category_id in cleaned:
            problems.add(f"{key}.category", f"{name}: answered twice.")
            continue
        encountered = _yes_no(raw.get("encountered"))
        if encountered == "bad":
            problems.add(f"{key}.encountered", f"{name}: answer yes or no.")
            continue
        ratings = _ratings_clean(survey, raw, encountered, key, name, problems)
        comment = _comment_clean(survey, raw.get("comment"), encountered, key, name, problems)
        cleaned[category_id] = _CleanAnswer(category, encountered, ratings["severity"], ratings["effort"], comment)
    return list(cleaned.values())


def _frameworks_clean(value, problems: _Problems) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        problems.add("frameworks", "Frameworks are a list of names.")
        return []
    canonical = {name.casefold(): name for name in FRAMEWORK_CHOICES}
    names: dict[str, str] = {}
    for item in value:
        if not isinstance(item, str):
            problems.add("frameworks", "Frameworks are a list of names.")
            continue
        name = " ".join(item.split())
        if not name:
            continue
        if len(name) > MAX_FRAMEWORK:
            problems.add("frameworks", f"A framework name has at most {MAX_FRAMEWORK} characters: {name[:20]}…")
            continue
        names.setdefault(name.casefold(), canonical.get(name.casefold(), name))
    if len(names) > MAX_FRAMEWORKS:
        problems.add("frameworks", f"Name at most {MAX_FRAMEWORKS} frameworks.")
    return list(names.values())[:MAX_FRAMEWORKS]


def _background_clean(survey: Survey, background, problems: _Problems) -> dict | None:
    if background is None:
        return None
    if not isinstance(background, dict):
        problems.add("background", "Background is an object with role, experience_years and frameworks.")
        return None
    role = background.get("role")
    if role is None:
        role = ""
    elif not isinstance(role, str) or role.strip() not in ("", *Response.Role.values):
        problems.add("role", f"Role is one of {', '.join(Response.Role.values)}.")
        role = ""
    role = role.strip()
    years = _whole_number(background.get("experience_years"))
    if years == "bad" or (years is not None and not 0 <= years <= MAX_YEARS):
        problems.add("experience_years", f"Years of experience is a whole number from 0 to {MAX_YEARS}.")
        years = None
    frameworks = _frameworks_clean(background.get("frameworks"), problems)
    if not survey.ask_background and (role or years is not None or frameworks):
        problems.add("background", "This survey does not ask about your background.")
    return {"role": role, "experience_years": years, "frameworks": frameworks}


def _missing_clean(survey: Survey, text, problems: _Problems) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        problems.add("missing_faults", "Missing faults are text.")
        return None
    text = text.strip()
    if text and not survey.ask_missing:
        problems.add("missing_faults", "This survey does not ask about missing faults.")
    if len(text) > MAX_MISSING:
        problems.add("missing_faults", f"At most {MAX_MISSING} characters here, please.")
    return text


def response_save(
    *, response_token: str, answers=None, background=None, missing_faults=None, submit: bool = False
) -> Response:
    """Save a respondent's answers (and background and missing faults); with `submit`, make them final.

    `answers` lists `{category, encountered, severity, effort, comment}` (or maps category id to
    that); the categories given are replaced, others are left as saved. `encountered` None clears
    a category's answer. Severity and effort are a level of the survey's scale (its label or its
    1-based position). Any question may be left unanswered, also on submit: submitting is the
    respondent's choice. Any problem: SurveyInputError naming each, nothing written."""
    with transaction.atomic():
        response = Response.objects.select_for_update().filter(token=str(response_token or "")).first()
        if response is None:
            raise NotFound("No such response; check the link you were given.")
        survey = Survey.objects.get(pk=response.survey_id)
        if response.submitted_at is not None:
            raise Conflict("These answers were submitted already; they are final.", field="response")
        if not survey.is_open:
            raise Conflict(closed_message(survey), field="survey")
        categories = {c.id: c for c in SurveyCategory.objects.filter(survey=survey)}
        problems = _Problems()
        cleaned = _answers_clean(survey, categories, answers, problems)
        bg = _background_clean(survey, background, problems)
        missing = _missing_clean(survey, missing_faults, problems)
        problems.raise_if_any()

        cleared = [a.category.id for a in cleaned if a.encountered is None]
        if cleared:
            Answer.objects.filter(response=response, category_id__in=cleared).delete()
        kept = [a for a in cleaned if a.encountered is not None]
        if kept:
            Answer.objects.bulk_create(
                [
                    Answer(
                        response=response,
                        category=a.category,
                        encountered=a.encountered,
                        severity=a.severity,
                        effort=a.effort,
                        comment=a.comment,
                    )
                    for a in kept
                ],
                update_conflicts=True,
                unique_fields=["response", "category"],
                update_fields=["encountered", "severity", "effort", "comment", "updated_at"],
            )
        fields = ["updated_at"]
        if bg is not None:
            response.role, response.experience_years = bg["role"], bg["experience_years"]
            fields += ["role", "experience_years"]
            ResponseFramework.objects.filter(response=response).delete()
            ResponseFramework.objects.bulk_create(
                ResponseFramework(response=response, name=n) for n in bg["frameworks"]
            )
        if missing is not None:
            response.missing_faults = missing
            fields.append("missing_faults")
        response.save(update_fields=fields)
        if submit:
            now = timezone.now()
            # Guarded by the row lock; the condition keeps it once-only even where locks are no-ops.
            if not Response.objects.filter(pk=response.pk, submitted_at__isnull=True).update(submitted_at=now):
                raise Conflict("These answers were submitted already; they are final.", field="response")
            response.submitted_at = now
    return response


def response_submit(*, response_token: str, **kwargs) -> Response:
    return response_save(response_token=response_token, submit=True, **kwargs)


# --- responses collected elsewhere (Qualtrics, SurveyMonkey, LimeSurvey exports) -------------------

MAX_ROLE_TEXT = 200
MAX_BACKGROUND = 5_000


@dataclass
class SurveyImport:
    """What an import read, matched and (unless a preview) wrote."""

    export: qualtrics.Export
    match: matching.Match
    categories: list  # the survey's categories, or the taxonomy's entries when the survey is to be made
    survey: Survey | None = None
    survey_created: bool = False
    added: int = 0
    already_imported: list[str] = dataclasses.field(default_factory=list)
    dropped: list[str] = dataclasses.field(default_factory=list)  # ratings given without a yes, and so not kept
    preview: bool = False

    def as_dict(self) -> dict:
        return {
            "survey": self.survey.id if self.survey else None,
            "survey_created": self.survey_created,
            "layout": self.export.layout,
            "respondents": len(self.export.respondents),
            "added": self.added,
            "already_imported": len(self.already_imported),
            "groups": self.match.rows(self.export.groups),
            "unmatched": self.match.unmatched,
            "dropped": self.dropped,
            "warnings": self.export.warnings,
            "preview": self.preview,
        }


def _import_scales(export: qualtrics.Export, groups: list[str]) -> tuple[list[str], list[str]]:
    """The study's scales, or 1–5 when every rating in the file is a number."""
    values = {
        answer.get(facet)
        for r in export.respondents
        for g in groups
        for facet in ("severity", "effort")
        if (answer := r.answers.get(g)) is not None and answer.get(facet) is not None
    }
    if values and all(v.isdigit() and 1 <= int(v) <= SCALE_MAX for v in values):
        return list(NUMERIC), list(NUMERIC)
    return list(STUDY_SEVERITY), list(STUDY_EFFORT)


def _import_values(export, match, severity_scale, effort_scale, dropped: list[str]) -> dict:
    """{respondent id: {group: (encountered, severity position, effort position)}}; InvalidInput naming
    the first values that are on none of the scales (nothing is guessed)."""
    bad, out = [], {}
    for r in export.respondents:
        answers = {}
        for group in match.matched:
            answer = r.answers.get(group)
            if answer is None or answer.is_empty:
                continue
            seen = qualtrics.match_choice(answer.encountered, ["Yes", "No"])
            severity = qualtrics.match_choice(answer.severity, severity_scale)
            effort = qualtrics.match_choice(answer.effort, effort_scale)
            for value, found, scale in (
                (answer.encountered, seen, ["Yes", "No"]),
                (answer.severity, severity, severity_scale),
                (answer.effort, effort, effort_scale),
            ):
                if value is not None and found is None:
                    bad.append(f"row {r.row}, {group}: {value!r} is not {scale_text(scale)}")
            if seen != "Yes" and (severity or effort):
                dropped.append(f"row {r.row}, {group}: a rating without a yes answer is not kept")
                severity = effort = None
            answers[group] = (
                None if seen is None else seen == "Yes",
                severity_scale.index(severity) + 1 if severity else None,
                effort_scale.index(effort) + 1 if effort else None,
            )
        out[r.id] = answers
    if bad:
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise InvalidInput("Values on none of the scales: " + "; ".join(bad[:5]) + more + ".", field="file")
    return out


def _import_survey_create(*, project, user, title: str, filename: str, entries, tree, scales) -> Survey:
    survey = Survey.objects.create(
        project=project,
        title=title,
        intro=f"Responses imported from {filename}.",
        status=Survey.Status.CLOSED,
        closed_at=timezone.now(),
        severity_scale=scales[0],
        effort_scale=scales[1],
        selection={"imported": filename},
        created_by=user,
    )
    _categories_create(survey, tree, entries)
    return survey


def _role(text: str) -> str:
    role = participant_sheets.role_of(text)
    return {"researcher": Response.Role.RESEARCHER, "practitioner": Response.Role.DEVELOPER}.get(role, "")


def _imported_response(survey: Survey, respondent: qualtrics.Respondent) -> Response:
    when = respondent.date or timezone.now()
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    years = respondent.experience_years
    background = {k[:200]: v[:MAX_BACKGROUND] for k, v in respondent.background.items()}
    return Response(
        survey=survey,
        external_id=respondent.id[:100],
        role=_role(respondent.role),
        experience_years=round(years) if years is not None and 0 <= years <= MAX_YEARS else None,
        background=background,
        submitted_at=when,
    )


@dataclass
class SurveyMatch:
    """How an export's column groups (file order) match the categories of a survey, or of the taxonomy when
    the import makes its survey: computed from the group names alone, no file read."""

    groups: list[str]
    match: matching.Match
    categories: list
    survey: Survey | None = None
    tree: object = None

    def rows(self) -> list[dict]:
        return self.match.rows(self.groups)


def survey_responses_match(*, project: Project, groups, survey: Survey | None = None, mapping=None) -> SurveyMatch:
    """Match column groups to the survey's categories (or, without a survey, to the project's taxonomy) by
    name, tolerantly (validation.matching); `mapping` ("GROUP=CATEGORY" entries) names the others. A mapping
    entry that is not GROUP=CATEGORY or names nothing is an InvalidInput of the field `map`. Writes nothing."""
    try:
        entries_map = matching.parse_mapping(mapping or [])
    except matching.MappingError as error:
        raise InvalidInput(str(error), field="map") from None
    if survey is not None and survey.project_id != project.id:
        raise NotFound("No such survey in this project.", field="survey")
    tree = None
    if survey is not None:
        categories = selectors.survey_categories(survey)
    else:
        tree = selectors.taxonomy_tree(project)
        categories = list(tree.walk())
        if not categories:
            raise InvalidInput("The taxonomy has no categories yet; build or import it first.", field="file")
    try:
        match = matching.match_groups(list(groups), categories, entries_map)
    except matching.MappingError as error:
        raise InvalidInput(str(error), field="map") from None
    return SurveyMatch(groups=list(groups), match=match, categories=categories, survey=survey, tree=tree)


def _nothing_matched(groups) -> InvalidInput:
    return InvalidInput(
        "No column group matches a category: " + ", ".join(groups) + ". Map them (GROUP=CATEGORY).", field="map"
    )


def _export_read(data: bytes, filename: str) -> qualtrics.Export:
    try:
        return qualtrics.read_export(data, filename)
    except qualtrics.ExportError as error:
        raise InvalidInput(f"{filename}: {error}", field="file") from None


def survey_responses_import(
    *, project: Project, user, data: bytes, filename: str, survey: Survey | None = None, mapping=None, preview=False
) -> SurveyImport:
    """Import the respondents of a survey export (validation.qualtrics reads it).

    Column groups are matched to categories by `survey_responses_match`. Without a survey one is made,
    closed, asking the matched categories in taxonomy order; importing the same file again finds it by its
    title and adds nothing: respondents are known by their id. Values must be on the survey's scales (the
    study's, or 1–5 when the file rates with numbers); anything else is refused, named, with nothing
    written. `preview`: read and match only. `user` None: the command line (no membership checked)."""
    if user is not None:
        lead_require(project=project, user=user)
    export = _export_read(data, filename)
    matched = survey_responses_match(project=project, groups=export.groups, survey=survey, mapping=mapping)
    match, categories = matched.match, matched.categories
    result = SurveyImport(export=export, match=match, categories=categories, survey=survey, preview=preview)
    if preview:
        return result
    if not match.matched:
        raise _nothing_matched(export.groups)
    scales = (
        (survey.scale("severity"), survey.scale("effort")) if survey else _import_scales(export, list(match.matched))
    )
    values = _import_values(export, match, scales[0], scales[1], result.dropped)
    with transaction.atomic():
        if survey is None:
            survey, targets = _import_survey_find_or_create(
                project=project, user=user, filename=filename, matched=matched, scales=scales, result=result
            )
        else:
            Survey.objects.select_for_update().filter(pk=survey.pk).first()
            targets = dict(match.matched)
        result.survey = survey
        known = selectors.response_external_ids(survey)
        for respondent in export.respondents:
            if respondent.id[:100] in known:
                result.already_imported.append(respondent.id)
                continue
            response = _imported_response(survey, respondent)
            response.save()
            ResponseFramework.objects.bulk_create(
                ResponseFramework(response=response, name=name[:MAX_FRAMEWORK])
                for name in dict.fromkeys(participant_sheets.framework_names(", ".join(respondent.frameworks)))
            )
            Answer.objects.bulk_create(
                Answer(response=response, category=targets[g], encountered=seen, severity=sev, effort=eff)
                for g, (seen, sev, eff) in values[respondent.id].items()
                if seen is not None and targets.get(g) is not None
            )
            result.added += 1
    return result


def _import_survey_find_or_create(*, project, user, filename: str, matched: SurveyMatch, scales, result):
    """The survey an import without one goes into (found by its title, else made), and {group: its category}."""
    match = matched.match
    title = f"Imported: {filename}"[:MAX_TITLE]
    survey = Survey.objects.select_for_update().filter(project=project, title=title).first()
    if survey is None:
        used = {id(c) for c in match.matched.values()}
        entries = [e for e in matched.categories if id(e) in used]
        survey = _import_survey_create(
            project=project,
            user=user,
            title=title,
            filename=filename,
            entries=entries,
            tree=matched.tree,
            scales=scales,
        )
        result.survey_created = True
    elif not survey.selection.get("imported"):
        raise Conflict(f"A survey titled {title!r} exists and was not imported; name it with --survey.")
    by_key = {(c.kind == "leaf", c.source_id): c for c in selectors.survey_categories(survey)}
    return survey, {g: by_key.get((e.is_leaf, e.id)) for g, e in match.matched.items()}


# --- survey-response imports as jobs (the page): upload → preview (Celery) → the lead's choice → import (Celery)

PREVIEW_NOTES = 20  # warnings kept with a preview
REPORT_NOTES = 200  # dropped values and warnings kept in a job's report


def survey_import_job_create(*, project: Project, user, input_name: str, input_data: bytes) -> Job:
    """A pending survey-response import of a lead: the upload's size, an XLSX's entries and unpacked size and a
    CSV's shape are checked now (a 4xx, no job); the file is read in Celery, whose preview step stores what
    the preview page shows on the job (or fails the job, naming a file it cannot read)."""
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_SURVEY,
        filename=input_name,
        data=input_data,
        upload_kind="survey",
        task=tasks.preview_survey_import_task,
    )


def survey_import_preview_summary(*, data: bytes, filename: str = "") -> dict:
    """What the preview page needs of an export, as JSON: its column groups (file order), its number of
    respondents, its layout and the reader's first warnings. InvalidInput naming the file otherwise."""
    export = _export_read(data, filename)
    return {
        "groups": list(export.groups),
        "respondents": len(export.respondents),
        "layout": export.layout,
        "warnings": [str(w) for w in export.warnings[:PREVIEW_NOTES]],
        "warnings_total": len(export.warnings),
    }


def _survey_import_preview_work(job: Job) -> dict:
    data = job_input(job)
    return survey_import_preview_summary(data=data, filename=job.input_name)


def survey_import_preview_job_run(*, job_id: int) -> str:
    """The preview step of a pending survey import: read once, stored in `job.params["preview"]`."""
    return job_step(job_id=job_id, key="preview", work=_survey_import_preview_work, message="Reading the file…")


def survey_import_job_start(*, job: Job, user, survey: Survey | None, mapping: list[str]) -> Job:
    """The lead's choice for a previewed import (into `survey`, or None for a new closed one; the mapping),
    checked on the stored group names (a 4xx, the job still waiting), stored on the job, which is sent to
    Celery: the file is read again there and imported in one transaction."""
    lead_require(project=job.project, user=user)
    preview = (job.params or {}).get("preview")
    if job.status == Job.Status.PENDING and preview is None:
        raise Conflict("The file is still being read; import it once its preview is shown.", field="file")
    if job.status != Job.Status.PENDING or "mapping" in job.params:
        raise Conflict("This import has started already.", field="file")
    mapping = [str(line) for line in mapping]
    matched = survey_responses_match(project=job.project, groups=preview["groups"], survey=survey, mapping=mapping)
    if not matched.match.matched:
        raise _nothing_matched(preview["groups"])
    with transaction.atomic():
        locked = Job.objects.select_for_update().defer("input_data", "result_data").filter(pk=job.pk).first()
        if locked is None or locked.status != Job.Status.PENDING or "mapping" in locked.params:
            raise Conflict("This import has started already.", field="file")
        locked.params = {**locked.params, "survey": survey.id if survey else None, "mapping": mapping}
        locked.save(update_fields=["params"])
        return job_enqueue(job=locked, task=tasks.import_survey_task)


def survey_import_report(result: SurveyImport, filename: str) -> dict:
    """A finished import as its job's report (JSON): the survey, who was added or there already, what was
    dropped and what the reader noted."""
    return {
        "file": filename,
        "survey": result.survey.id if result.survey else None,
        "survey_title": result.survey.title if result.survey else "",
        "survey_created": result.survey_created,
        "layout": result.export.layout,
        "respondents": len(result.export.respondents),
        "added": result.added,
        "already_imported": len(result.already_imported),
        "matched": len(result.match.matched),
        "unmatched": list(result.match.unmatched),
        "dropped": result.dropped[:REPORT_NOTES],
        "dropped_total": len(result.dropped),
        "warnings": [str(w) for w in result.export.warnings[:REPORT_NOTES]],
    }


def _survey_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    params = job.params or {}
    with job_reading(job, progress, "Reading and importing the file") as (data, user):
        survey = None
        if params.get("survey") is not None:
            survey = Survey.objects.filter(project=job.project, pk=params["survey"]).first()
            if survey is None:
                raise NotFound("The survey chosen for this import no longer exists.", field="survey")
        result = survey_responses_import(
            project=job.project,
            user=user,
            data=data,
            filename=job.input_name,
            survey=survey,
            mapping=params.get("mapping") or [],
        )
    return survey_import_report(result, job.input_name), None


def survey_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_survey_import_work, progress=progress)


# --- participants ---------------------------------------------------------------------------------------


def _participant_kind_check(default_kind: str) -> None:
    if default_kind and default_kind not in Participant.Kind.values:
        raise InvalidInput(f"Kind is one of {', '.join(Participant.Kind.values)}.", field="kind")


def participants_import(*, project: Project, user, data: bytes, filename: str, default_kind: str = "") -> dict:
    """Interviewees and respondents from the study's participant sheets (validation.participants reads
    them). A participant is known by kind and id: importing again updates, never duplicates."""
    if user is not None:
        lead_require(project=project, user=user)
    _participant_kind_check(default_kind)
    try:
        people = participant_sheets.read_participants(data, filename, default_kind=default_kind)
    except qualtrics.ExportError as error:
        raise InvalidInput(f"{filename}: {error}", field="file") from None
    unknown = [p for p in people if p.kind not in Participant.Kind.values]
    if unknown:
        raise InvalidInput(
            f"{filename}: say whether the participants of sheet {unknown[0].sheet or filename!r} are interviewees "
            "or survey respondents (a Kind column, a sheet title, or the kind to import as).",
            field="kind",
        )
    counts = {"created": 0, "updated": 0}
    with transaction.atomic():
        for p in people:
            _, created = Participant.objects.update_or_create(
                project=project,
                kind=p.kind,
                external_id=p.id[:100],
                defaults={
                    "role": p.role,
                    "role_text": p.role_text[:MAX_ROLE_TEXT],
                    "experience_years": p.experience_years,
                    "dl_experience_years": p.dl_experience_years,
                    "frameworks": p.frameworks,
                },
            )
            counts["created" if created else "updated"] += 1
    return counts


def participants_import_start(*, project: Project, user, filename: str, data: bytes, default_kind: str = "") -> Job:
    """Store an uploaded participant sheet and import it in a Celery job (`participants_import_job_run`),
    never in the request.

    Checked here, before anything is stored: the lead's role, the kind to import as, and the file's size,
    an XLSX's unpacked size and entries, a CSV's columns and cells (the limits of survey material, which
    the participant sheets are). The job reads the sheet and writes it in one transaction
    (`participants_import`: nothing written on an error, which names the file); its report is
    {"created", "updated"}."""
    lead_require(project=project, user=user)
    _participant_kind_check(default_kind)
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_PARTICIPANTS,
        params={"default_kind": default_kind},
        filename=filename,
        data=data,
        upload_kind="survey",  # the participant sheets are survey material
        task=tasks.import_participants_task,
    )


def _participants_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    with job_reading(job, progress, "Reading the participant sheets") as (data, user):
        counts = participants_import(
            project=job.project,
            user=user,
            data=data,
            filename=job.input_name,
            default_kind=(job.params or {}).get("default_kind", ""),
        )
    return counts, None


def participants_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_participants_import_work, progress=progress)
