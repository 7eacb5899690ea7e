"""Reads across apps for the reports: the ratings behind inter-rater agreement (issue 10).

Ratings per round, in one query over the annotations (plus one each for label names,
evaluator names, the tree's nodes and its leaves — a constant number of queries whatever
the size):

- a round labelled in Concord counts the annotations of its items past labelling
  (agreed, majority, conflict, resolved): an item still being labelled is not finished;
- an imported round counts all its annotations (the spreadsheet's evaluators, up to four);
- either way each annotation is one rating, as `export_annotations` writes it: the
  value is the label or the verdict, the rater the evaluator.

Interviews: every piece both evaluators tagged is an item with two ratings (their tags;
a tag that names a label of the project is that label, so it has its place in the tree).

Values are label names (text); verdicts and taxonomy nodes are `Category` values, so they
never coincide with a label of the same name. A label's place in the tree is its first
leaf (lowest id) when it is placed under several nodes.
"""

from __future__ import annotations

import io
import time

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BigIntegerField, Case, Value, When
from django.db.models.functions import Coalesce

from core.errors import InvalidInput, NotFound
from core.models import Project
from core.text import normalise_label
from interviews.models import InterviewCoder, Piece
from labelling.models import Annotation, Label, Round, RoundItem, Verdict
from reports.agreement import Category, Ratings, agreement_report, levels_of, parse_level
from reports.agreement.measures import sort_key
from reports.participants import framework_counts, participants_summary
from reports.table2 import Counts, Table2, build_table2
from taxonomy.models import Leaf, Node
from validation import selectors as validation_selectors
from validation.models import Survey

INTERVIEWS = "interviews"
_VERDICT_CODES = {value: -(i + 1) for i, value in enumerate(Verdict.values)}


def verdict_value(verdict: str) -> Category:
    return Category("verdict", Verdict(verdict).label, verdict)


def taxonomy_paths(project: Project) -> dict:
    """Label name -> the nodes from its top-level category down to the node holding it (two queries)."""
    nodes = {
        node_id: (parent_id, Category("node", f"{code} {name}".strip(), node_id))
        for node_id, parent_id, code, name in Node.objects.filter(project=project)
        .order_by()
        .values_list("id", "parent_id", "code", "name")
    }
    chains: dict[int, tuple] = {}

    def chain(node_id: int) -> tuple:
        if node_id not in chains:
            parent_id, value = nodes[node_id]
            seen, path = {node_id}, [value]
            while parent_id is not None and parent_id in nodes and parent_id not in seen:
                seen.add(parent_id)
                parent_id, parent = nodes[parent_id]
                path.append(parent)
            chains[node_id] = tuple(reversed(path))
        return chains[node_id]

    paths: dict = {}
    leaves = Leaf.objects.filter(node__project=project).order_by("id").values_list("label__name", "node_id")
    for label_name, node_id in leaves:
        if label_name not in paths and node_id in nodes:
            paths[label_name] = chain(node_id)
    return paths


def _int_rows(queryset, width: int) -> np.ndarray:
    """The integer columns of a values_list queryset as an int64 array (n × width), read in one
    statement: on PostgreSQL through COPY … TO STDOUT (CSV parsed by numpy), elsewhere fetchall."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql" and hasattr(raw, "copy_expert"):
            copy = f"COPY ({raw.mogrify(sql, params).decode()}) TO STDOUT WITH (FORMAT csv)"
            buffer, started = io.BytesIO(), time.monotonic()
            raw.copy_expert(copy, buffer)
            if connection.queries_logged:  # counted like any query (tests, debug toolbar)
                connection.queries_log.append({"sql": copy, "time": f"{time.monotonic() - started:.3f}"})
            text = buffer.getvalue().decode().replace("\n", ",")
            return np.fromstring(text, dtype=np.int64, sep=",").reshape(-1, width)
        cursor.execute(sql, params)
        return np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, width)


def _rating_rows(annotations) -> np.ndarray:
    """(round id, item, evaluator, value code) of the annotations as an int64 array (n × 4): the
    value code is the label id, or a negative code for a verdict. One SQL statement (annotations
    joined to their assignments only), its rows straight into numpy."""
    verdicts = [When(verdict=verdict, then=Value(code)) for verdict, code in _VERDICT_CODES.items()]
    rows = (
        annotations.annotate(value_code=Coalesce("label_id", Case(*verdicts, output_field=BigIntegerField())))
        .order_by()
        .values_list("assignment__round_id", "assignment__item_id", "assignment__evaluator_id", "value_code")
    )
    return _int_rows(rows, 4)


def _recode(codes: np.ndarray, names: dict) -> tuple[np.ndarray, list]:
    """Codes -> 0..K−1 in the order of their names (measures.sort_key), and those names."""
    distinct = np.unique(codes)
    ordered = sorted(distinct.tolist(), key=lambda code: sort_key(names[code]))
    position = np.empty(len(distinct), np.int64)
    position[np.searchsorted(distinct, ordered)] = np.arange(len(ordered))
    return position[np.searchsorted(distinct, codes)], [names[code] for code in ordered]


def _ratings_by_round(rows: np.ndarray, label_names: dict, rater_names: dict) -> dict[int, Ratings]:
    """Rows of _rating_rows -> Ratings per round, sorted by (round, item, rater), sharing one list
    of value names (so that every round maps them to a level once)."""
    if not len(rows):
        return {}
    names = {code: verdict_value(verdict) for verdict, code in _VERDICT_CODES.items()}
    names.update(label_names)
    values, value_names = _recode(rows[:, 3], names)
    raters, rater_list = _recode(rows[:, 2], {r: rater_names.get(r, str(r)) for r in np.unique(rows[:, 2]).tolist()})
    rounds, items = rows[:, 0], rows[:, 1]
    order = np.lexsort((raters, items, rounds))
    rounds, items, raters, values = rounds[order], items[order], raters[order], values[order]
    bounds = np.flatnonzero(np.r_[True, rounds[1:] != rounds[:-1], True])
    return {
        int(rounds[lo]): Ratings(items[lo:hi], raters[lo:hi], values[lo:hi], value_names, rater_list)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    }


def round_ratings(
    project: Project, *, number: int | None = None, kind: str | None = None, framework: str | None = None
) -> list[tuple[int, Ratings]]:
    """(round number, its ratings) for the project's rounds (or round `number`), optionally only
    artefacts of one kind or framework; a round without ratings has empty ratings. Five queries:
    the rounds, the items of Concord rounds still being labelled, the annotations, label and
    evaluator names."""
    rounds = Round.objects.filter(project=project).order_by("number")
    if number is not None:
        rounds = rounds.filter(number=number)
    rounds = list(rounds.values_list("id", "number", "source"))
    live = [rid for rid, _, source in rounds if source != Round.Source.IMPORT]
    unfinished = np.fromiter(
        RoundItem.objects.filter(round_id__in=live, status=RoundItem.Status.LABELLING).values_list("id", flat=True)
        if live
        else (),
        np.int64,
    )
    annotations = Annotation.objects.filter(assignment__round_id__in=[rid for rid, _, _ in rounds])
    if kind:
        annotations = annotations.filter(assignment__item__artefact__kind=kind)
    if framework:
        annotations = annotations.filter(assignment__item__artefact__framework=framework)
    rows = _rating_rows(annotations) if rounds else np.zeros((0, 4), np.int64)
    if len(unfinished):
        rows = rows[~np.isin(rows[:, 1], unfinished)]
    numbers = dict((rid, n) for rid, n, _ in rounds)
    if len(rows):
        ids = np.array(sorted(numbers), np.int64)
        rows[:, 0] = np.array([numbers[rid] for rid in ids.tolist()], np.int64)[np.searchsorted(ids, rows[:, 0])]
    label_names = dict(Label.objects.filter(project=project).order_by().values_list("id", "name"))
    rater_ids = np.unique(rows[:, 2]).tolist()
    users = get_user_model().objects.filter(id__in=rater_ids).order_by().values_list("id", "username")
    found = _ratings_by_round(rows, label_names, dict(users) if rater_ids else {})
    empty = Ratings(*(np.zeros(0, np.int64) for _ in range(3)), [], [])
    return [(n, found.get(n, empty)) for _, n, _ in rounds]


def interview_ratings(project: Project) -> Ratings | None:
    """The pieces both evaluators tagged, each an item rated by the interview's evaluators 1
    and 2 (by username). None when there is none. Three queries."""
    pieces = list(
        Piece.objects.filter(interview__project=project)
        .exclude(evaluator1_tag="")
        .exclude(evaluator2_tag="")
        .order_by("id")
        .values_list("id", "interview_id", "evaluator1_tag", "evaluator2_tag")
    )
    if not pieces:
        return None
    coders = {
        (interview_id, slot): username
        for interview_id, slot, username in InterviewCoder.objects.filter(
            interview__project=project, role=InterviewCoder.Role.EVALUATOR
        ).values_list("interview_id", "slot", "user__username")
    }
    labels = dict(Label.objects.filter(project=project).order_by().values_list("normalised", "name"))

    def value(tag: str) -> str:
        text = tag.strip()
        return labels.get(normalise_label(text), text)

    triples = []
    for piece_id, interview_id, tag1, tag2 in pieces:
        for slot, tag in ((1, tag1), (2, tag2)):
            triples.append((piece_id, coders.get((interview_id, slot), f"evaluator {slot}"), value(tag)))
    return Ratings.from_triples(triples)


def agreement_levels(project: Project, paths: dict | None = None) -> list[str]:
    return levels_of(taxonomy_paths(project) if paths is None else paths)


def project_agreement(
    project: Project,
    *,
    number: int | None = None,
    level: str | None = None,
    kind: str | None = None,
    framework: str | None = None,
    interviews: bool | None = None,
) -> dict:
    """The agreement report of the project (issue 10): rows per round × level, pairs, top
    disagreements; one round with `number`, one level with `level` (all by default); only
    artefacts of `kind`/`framework`; interviews as a last "interviews" round when they have
    pieces both evaluators tagged (by default only when no round is asked for)."""
    paths = taxonomy_paths(project)
    levels = [parse_level(level)] if level else levels_of(paths)
    rounds: list = round_ratings(project, number=number, kind=kind, framework=framework)
    if interviews is None:
        interviews = number is None and not kind and not framework
    if interviews:
        ratings = interview_ratings(project)
        if ratings is not None:
            rounds.append((INTERVIEWS, ratings))
    return agreement_report(rounds, paths=paths, levels=levels)


def agreement_asked(
    project: Project,
    *,
    number: int | None = None,
    level: str | None = None,
    kind: str | None = None,
    framework: str | None = None,
) -> dict:
    """project_agreement for what a person asked: InvalidInput for a level that is not one,
    NotFound for a round the project does not have."""
    if level:
        try:
            level = parse_level(level)
        except ValueError as exc:
            raise InvalidInput(str(exc), field="level") from exc
    if number is not None and not Round.objects.filter(project=project, number=number).exists():
        raise NotFound(f"This project has no round {number}.", field="round")
    return project_agreement(project, number=number, level=level or None, kind=kind, framework=framework)


def agreement_for_member(report: dict, membership) -> dict:
    """The report as a member may see it: the top disagreements name labels, some of them on items the
    moderators still have to decide, so only leads and moderators see them (others get an empty list)."""
    if membership.is_lead or membership.is_moderator:
        return report
    return {**report, "disagreements": []}


# --- Table 2 of a validation survey, participants --------------------------------------------------


def survey_table2(survey: Survey, *, respondents: int | None = None) -> Table2:
    """Table 2 over the survey's submitted responses, with its extra sheets for the XLSX download."""
    severity = survey.scale("severity") if survey.ask_severity else []
    effort = survey.scale("effort") if survey.ask_effort else []
    categories = []
    for row in validation_selectors.survey_counts(survey):
        counts = Counts(
            yes=row["n_yes"],
            no=row["n_no"],
            severity=dict(zip(severity, row["severity"], strict=False)),
            effort=dict(zip(effort, row["effort"], strict=False)),
        )
        categories.append((row["name"], row["code"], counts))
    table = build_table2(
        categories,
        severity_levels=severity,
        effort_levels=effort,
        title=survey.title,
        respondents=validation_selectors.survey_respondents(survey) if respondents is None else respondents,
    )
    return table


def survey_table2_xlsx(survey: Survey) -> Table2:
    """Table 2 with the XLSX download's other sheets: missing faults, comments, respondents' background."""
    results = validation_selectors.survey_results(survey)
    table = survey_table2(survey, respondents=results.submitted)
    table.extra_sheets = survey_table2_sheets(results)
    return table


def survey_table2_sheets(results) -> list[tuple[str, list[list]]]:
    missing = [["Response", "Role", "Missing fault"]] + [
        [m["response"], m["role"], m["text"]] for m in results.missing_faults
    ]
    comments = [["Code", "Category", "Encountered", "Comment"]] + [
        [c["code"], c["name"], "yes" if c["encountered"] else "no", c["comment"]] for c in results.comments
    ]
    background = [["Respondents (submitted)", results.submitted], ["Not submitted (not counted)", results.in_progress]]
    background += [[], ["Role", "Respondents"]] + [[r["label"], r["n"]] for r in results.roles]
    background += [[], ["Framework", "Respondents"]] + [[f["name"], f["n"]] for f in results.frameworks]
    return [("Missing faults", missing), ("Comments", comments), ("Respondents", background)]


def participant_summary(project):
    participants = list(validation_selectors.participant_list(project))
    return participants, participants_summary(participants), framework_counts(participants)
