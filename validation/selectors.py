"""Reads of the validation survey: lists, the public views by token, and the results (Table 2).

The results are SQL aggregates: one query counts, per asked category, the submitted responses
answering it, the yes answers and the mean ratings (COUNT/AVG with FILTER); a few more count
respondents, roles and frameworks, and list missing faults and comments. The number of queries
does not grow with the number of responses or categories.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Avg, Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from core.errors import InvalidInput, NotFound
from core.models import Job, Project
from core.selectors import upload_job
from taxonomy.selectors import Entry, Tree, tree_build
from validation.models import Answer, Participant, Response, ResponseFramework, Survey, SurveyCategory

# --- taxonomy input -------------------------------------------------------------------


def taxonomy_tree(project: Project) -> Tree:
    """The project's taxonomy in its display order (the taxonomy app's own reading of it)."""
    return tree_build(project)


def default_selection(tree: Tree, *, levels: set[int] | None = None, include_leaves: bool = False) -> list[Entry]:
    """Inner categories at `levels` (None = all), plus every leaf with `include_leaves`, in tree order."""
    return [e for e in tree.walk() if (include_leaves if e.is_leaf else (levels is None or e.depth in levels))]


# --- surveys ---------------------------------------------------------------------------


def _count(model, column: str, **filters):
    rows = (
        model.objects.filter(**{column: OuterRef("pk")}, **filters)
        .order_by()
        .values(column)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def survey_list(project: Project):
    """The project's surveys, newest first, with their counts of categories and responses."""
    return (
        Survey.objects.filter(project=project)
        .annotate(
            n_categories=_count(SurveyCategory, "survey"),
            n_submitted=_count(Response, "survey", submitted_at__isnull=False),
            n_in_progress=_count(Response, "survey", submitted_at__isnull=True),
        )
        .order_by("-created_at", "-id")
    )


def survey_import_job(*, project: Project, job_id: int) -> Job:
    """A survey-response import of the project, without its upload's bytes (the preview page reads what its
    Celery step stored on the job)."""
    return upload_job(
        project=project, job_id=job_id, kind=Job.Kind.IMPORT_SURVEY, missing="No such survey import in this project."
    )


def survey_get(project: Project, survey_id) -> Survey:
    try:
        survey_id = int(survey_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"Not a survey id: {survey_id!r}.", field="survey") from None
    if not 0 < survey_id < 2**63:
        raise NotFound("No such survey in this project.", field="survey")
    survey = Survey.objects.filter(project=project, pk=survey_id).first()
    if survey is None:
        raise NotFound("No such survey in this project.", field="survey")
    return survey


def survey_get_by_token(token) -> Survey:
    survey = Survey.objects.select_related("project").filter(token=str(token or "")).first() if token else None
    if survey is None:
        raise NotFound("No such survey; check the link you were given.")
    return survey


def response_get_by_token(token) -> Response:
    response = Response.objects.select_related("survey").filter(token=str(token or "")).first() if token else None
    if response is None:
        raise NotFound("No such response; check the link you were given.")
    return response


def survey_categories(survey: Survey) -> list[SurveyCategory]:
    return list(SurveyCategory.objects.filter(survey=survey).order_by("position"))


def response_answers(response: Response) -> dict[int, Answer]:
    return {a.category_id: a for a in Answer.objects.filter(response=response)}


def response_frameworks(response: Response) -> list[str]:
    return list(ResponseFramework.objects.filter(response=response).values_list("name", flat=True))


# --- results (Table 2) -----------------------------------------------------------------------


@dataclass
class Row:
    """One category of Table 2."""

    id: int
    position: int
    kind: str
    code: str
    name: str
    path: list[str]
    level: int
    description: str
    respondents: int
    yes: int
    mean_severity: float | None
    mean_effort: float | None

    @property
    def no(self) -> int:
        return self.respondents - self.yes

    @property
    def yes_percent(self) -> float | None:
        return round(100 * self.yes / self.respondents, 1) if self.respondents else None

    @property
    def display_name(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def path_text(self) -> str:
        return " › ".join(self.path or [self.name])

    def as_dict(self) -> dict:
        return {
            "category": self.id,
            "position": self.position,
            "kind": self.kind,
            "code": self.code,
            "name": self.name,
            "path": self.path,
            "level": self.level,
            "respondents": self.respondents,
            "yes": self.yes,
            "no": self.no,
            "yes_percent": self.yes_percent,
            "mean_severity": self.mean_severity,
            "mean_effort": self.mean_effort,
        }


@dataclass
class Results:
    survey: Survey
    rows: list[Row]
    submitted: int = 0
    in_progress: int = 0
    mean_experience: float | None = None
    roles: list[dict] = field(default_factory=list)  # {"role", "label", "n"}
    frameworks: list[dict] = field(default_factory=list)  # {"name", "n"}
    missing_faults: list[dict] = field(default_factory=list)  # {"response", "text", "role", "submitted_at"}
    comments: list[dict] = field(default_factory=list)  # {"category", "code", "name", "encountered", "comment"}

    @property
    def has_responses(self) -> bool:
        return self.submitted > 0

    def as_dict(self) -> dict:
        s = self.survey
        return {
            "survey": {
                "id": s.id,
                "title": s.title,
                "status": s.status,
                "questions": {
                    "encountered": True,
                    "severity": s.ask_severity,
                    "effort": s.ask_effort,
                    "comment": s.ask_comment,
                    "background": s.ask_background,
                    "missing_faults": s.ask_missing,
                },
            },
            "respondents": self.submitted,
            "in_progress": self.in_progress,
            "rows": [r.as_dict() for r in self.rows],
            "background": {
                "mean_experience_years": self.mean_experience,
                "roles": [{"role": r["role"], "n": r["n"]} for r in self.roles],
                "frameworks": self.frameworks,
            },
            "missing_faults": [
                {
                    "response": m["response"],
                    "text": m["text"],
                    "role": m["role"],
                    "submitted_at": m["submitted_at"].isoformat() if m["submitted_at"] else None,
                }
                for m in self.missing_faults
            ],
            "comments": self.comments,
        }


def _mean(value) -> float | None:
    return None if value is None else round(float(value), 2)


def survey_results(survey: Survey) -> Results:
    """Table 2 of a survey over its submitted responses (in-progress ones are only counted)."""
    submitted = Q(answers__response__submitted_at__isnull=False)
    yes = submitted & Q(answers__encountered=True)
    category_rows = (
        SurveyCategory.objects.filter(survey=survey)
        .annotate(
            n_respondents=Count("answers", filter=submitted),
            n_yes=Count("answers", filter=yes),
            avg_severity=Avg("answers__severity", filter=yes),
            avg_effort=Avg("answers__effort", filter=yes),
        )
        .order_by("position")
        .values(
            "id",
            "position",
            "kind",
            "code",
            "name",
            "path",
            "level",
            "description",
            "n_respondents",
            "n_yes",
            "avg_severity",
            "avg_effort",
        )
    )
    rows = [
        Row(
            id=r["id"],
            position=r["position"],
            kind=r["kind"],
            code=r["code"],
            name=r["name"],
            path=r["path"] or [],
            level=r["level"],
            description=r["description"],
            respondents=r["n_respondents"],
            yes=r["n_yes"],
            mean_severity=_mean(r["avg_severity"]) if survey.ask_severity else None,
            mean_effort=_mean(r["avg_effort"]) if survey.ask_effort else None,
        )
        for r in category_rows
    ]
    done = Q(submitted_at__isnull=False)
    totals = Response.objects.filter(survey=survey).aggregate(
        submitted=Count("id", filter=done),
        in_progress=Count("id", filter=Q(submitted_at__isnull=True)),
        years=Avg("experience_years", filter=done),
    )
    results = Results(
        survey=survey,
        rows=rows,
        submitted=totals["submitted"],
        in_progress=totals["in_progress"],
        mean_experience=_mean(totals["years"]),
    )
    if not results.submitted:
        return results
    finished = Response.objects.filter(survey=survey, submitted_at__isnull=False)
    role_names = dict(Response.Role.choices)
    results.roles = [
        {"role": r["role"], "label": role_names.get(r["role"], "Not given"), "n": r["n"]}
        for r in finished.values("role").annotate(n=Count("id")).order_by("-n", "role")
    ]
    results.frameworks = list(
        ResponseFramework.objects.filter(response__survey=survey, response__submitted_at__isnull=False)
        .values("name")
        .annotate(n=Count("id"))
        .order_by("-n", "name")
    )
    results.missing_faults = [
        {
            "response": r["id"],
            "text": r["missing_faults"],
            "role": r["role"],
            "role_label": role_names.get(r["role"], ""),
            "submitted_at": r["submitted_at"],
        }
        for r in finished.exclude(missing_faults="")
        .order_by("submitted_at", "id")
        .values("id", "missing_faults", "role", "submitted_at")
    ]
    results.comments = [
        {
            "category": r["category_id"],
            "code": r["category__code"],
            "name": r["category__name"],
            "encountered": r["encountered"],
            "comment": r["comment"],
        }
        for r in Answer.objects.filter(category__survey=survey, response__submitted_at__isnull=False)
        .exclude(comment="")
        .order_by("category__position", "id")
        .values("category_id", "category__code", "category__name", "encountered", "comment")
    ]
    return results


def response_resume(*, survey, token: str | None):
    """The respondent's own response to `survey` saved in their session, if any."""
    if not token:
        return None
    return Response.objects.filter(token=token, survey=survey).only("token", "submitted_at").first()


# --- Table 2 counts (the paper's layout; reports.table2 turns them into percentages) -------------------


def survey_counts(survey: Survey) -> list[dict]:
    """Per asked category, in survey order, over submitted responses: yes, no, and per level
    (1-based position) of the severity and effort scales the Yes respondents' ratings. One query."""
    submitted = Q(answers__response__submitted_at__isnull=False)
    yes = submitted & Q(answers__encountered=True)
    aggregates = {
        "n_yes": Count("answers", filter=yes),
        "n_no": Count("answers", filter=submitted & Q(answers__encountered=False)),
    }
    for question in ("severity", "effort"):
        for position in range(1, len(survey.scale(question)) + 1):
            aggregates[f"{question}_{position}"] = Count(
                "answers", filter=yes & Q(**{f"answers__{question}": position})
            )
    rows = (
        SurveyCategory.objects.filter(survey=survey)
        .annotate(**aggregates)
        .order_by("position")
        .values("id", "position", "kind", "code", "name", "level", *aggregates)
    )
    out = []
    for row in rows:
        row = dict(row)
        row["severity"] = [row.pop(f"severity_{p}") for p in range(1, len(survey.scale("severity")) + 1)]
        row["effort"] = [row.pop(f"effort_{p}") for p in range(1, len(survey.scale("effort")) + 1)]
        out.append(row)
    return out


def survey_respondents(survey: Survey) -> int:
    return Response.objects.filter(survey=survey, submitted_at__isnull=False).count()


def survey_latest(project: Project) -> Survey | None:
    return Survey.objects.filter(project=project).order_by("-created_at", "-id").first()


def response_external_ids(survey: Survey) -> set[str]:
    return set(Response.objects.filter(survey=survey).exclude(external_id="").values_list("external_id", flat=True))


def participant_list(project: Project):
    return Participant.objects.filter(project=project).order_by("kind", "external_id", "id")
