"""Writes of the validation survey. Keyword-only `<entity>_<action>` functions; each runs in
one transaction and raises a DomainError with nothing written when a rule is broken.

Leads create, open, close and delete surveys. Respondents need no account: they act through
the survey's token (to start a response) and their response's token (to save and submit).
A response is final once submitted; the response row is locked while it is written, so two
submits at once give one submission and a 409 for the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound
from core.models import Project
from core.selectors import membership_require
from validation import selectors
from validation.models import (
    SCALE_MAX,
    SCALE_MIN,
    Answer,
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
) -> Survey:
    """A draft survey asking about the chosen categories of the project's current taxonomy.

    Categories are chosen explicitly (`node_ids`, `leaf_ids`) or, when both are None, by
    `levels` (inner nodes at those depths; None = every level) plus every leaf if
    `include_leaves`. Each chosen category's code, name, path and description are copied, in
    taxonomy order."""
    lead_require(project=project, user=user)
    title = _title_validate(title)
    intro = _intro_validate(intro)
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
                selection=selection,
                created_by=user,
            )
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


def _scale(value) -> int | None | str:
    number = _whole_number(value)
    if isinstance(number, int) and not SCALE_MIN <= number <= SCALE_MAX:
        return "bad"
    return number


def _ratings_clean(survey: Survey, raw: dict, *, encountered, key: str, name: str, problems: _Problems) -> dict:
    """Severity and effort of one answer: on the survey's scale, asked by the survey, for a fault encountered."""
    ratings = {}
    for field, asked, what in (
        ("severity", survey.ask_severity, "severity"),
        ("effort", survey.ask_effort, "effort"),
    ):
        value = _scale(raw.get(field))
        if value == "bad":
            problems.add(f"{key}.{field}", f"{name}: the {what} is a whole number from {SCALE_MIN} to {SCALE_MAX}.")
        elif value is not None and not asked:
            problems.add(f"{key}.{field}", f"{name}: this survey does not ask about {what}.")
        elif value is not None and encountered is not True:
            problems.add(f"{key}.{field}", f"{name}: rate the {what} only for a fault you encountered.")
        ratings[field] = value if isinstance(value, int) else None
    return ratings


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
        ratings = _ratings_clean(survey, raw, encountered=encountered, key=key, name=name, problems=problems)
        comment = raw.get("comment") or ""
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
    a category's answer. On submit every category needs a yes or no, and every yes the ratings
    the survey asks for. Any problem: SurveyInputError naming each, nothing written."""
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
        if submit:
            _completeness_check(survey, response, categories, cleaned, problems)
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


def _completeness_check(survey, response, categories, cleaned, problems: _Problems) -> None:
    state = {
        row["category_id"]: row
        for row in Answer.objects.filter(response=response).values("category_id", "encountered", "severity", "effort")
    }
    for a in cleaned:
        if a.encountered is None:
            state.pop(a.category.id, None)
        else:
            state[a.category.id] = {"encountered": a.encountered, "severity": a.severity, "effort": a.effort}
    for category in sorted(categories.values(), key=lambda c: c.position):
        key, name = f"answers.{category.id}", category.display_name
        if any(field.startswith(f"{key}.") for field in problems):
            continue  # already named
        row = state.get(category.id)
        if row is None:
            problems.add(f"{key}.encountered", f"{name}: have you encountered this fault? Answer yes or no.")
            continue
        if row["encountered"]:
            if survey.ask_severity and row["severity"] is None:
                problems.add(f"{key}.severity", f"{name}: rate its severity ({SCALE_MIN}–{SCALE_MAX}).")
            if survey.ask_effort and row["effort"] is None:
                problems.add(
                    f"{key}.effort", f"{name}: rate the effort to diagnose and fix it ({SCALE_MIN}–{SCALE_MAX})."
                )


def response_submit(*, response_token: str, **kwargs) -> Response:
    return response_save(response_token=response_token, submit=True, **kwargs)
