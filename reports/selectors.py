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

from collections.abc import Sequence

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Q

from core.errors import InvalidInput, NotFound
from core.models import Project
from core.text import normalise_label
from interviews.models import InterviewCoder, Piece
from labelling.models import Annotation, Label, Round, RoundItem, Verdict
from reports.agreement import Category, Ratings, agreement_report, levels_of, parse_level
from reports.agreement.measures import sort_key
from taxonomy.models import Leaf, Node

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


def _ratings_of_rows(rows: Sequence[tuple], label_names: dict, rater_names: dict) -> list[tuple[int, Ratings]]:
    """(round, item, rater id, value code) rows, sorted by round -> Ratings per round, with the
    value and rater names shared by all rounds (sorted, so that codes follow the names)."""
    if not rows:
        return []
    rounds, items, raters, values = (np.fromiter(col, np.int64, len(rows)) for col in zip(*rows, strict=True))
    value_codes = np.unique(values)
    code_names = {code: label_names[code] for code in value_codes.tolist() if code > 0}
    code_names.update({code: verdict_value(v) for v, code in _VERDICT_CODES.items()})
    ordered = sorted(value_codes.tolist(), key=lambda code: sort_key(code_names[code]))
    value_names = [code_names[code] for code in ordered]
    value_index = np.empty(len(value_codes), np.int64)
    value_index[np.searchsorted(value_codes, ordered)] = np.arange(len(ordered))
    values = value_index[np.searchsorted(value_codes, values)]
    rater_ids = np.unique(raters)
    ordered_raters = sorted(rater_ids.tolist(), key=lambda r: rater_names.get(r, str(r)))
    rater_index = np.empty(len(rater_ids), np.int64)
    rater_index[np.searchsorted(rater_ids, ordered_raters)] = np.arange(len(ordered_raters))
    raters = rater_index[np.searchsorted(rater_ids, raters)]
    names = [rater_names.get(r, str(r)) for r in ordered_raters]
    bounds = np.flatnonzero(np.r_[True, rounds[1:] != rounds[:-1], True])
    return [
        (int(rounds[lo]), Ratings(items[lo:hi], raters[lo:hi], values[lo:hi], value_names, names))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def round_ratings(
    project: Project, *, number: int | None = None, kind: str | None = None, framework: str | None = None
) -> list[tuple[int, Ratings]]:
    """(round number, its ratings) for the project's rounds (or round `number`), optionally only
    artefacts of one kind or framework; a round without ratings has empty ratings. Four queries."""
    numbers = Round.objects.filter(project=project).order_by("number")
    if number is not None:
        numbers = numbers.filter(number=number)
    numbers = list(numbers.values_list("number", flat=True))
    annotations = Annotation.objects.filter(assignment__round__project=project).filter(
        Q(assignment__round__source=Round.Source.IMPORT) | ~Q(assignment__item__status=RoundItem.Status.LABELLING)
    )
    if number is not None:
        annotations = annotations.filter(assignment__round__number=number)
    if kind:
        annotations = annotations.filter(assignment__item__artefact__kind=kind)
    if framework:
        annotations = annotations.filter(assignment__item__artefact__framework=framework)
    rows = annotations.order_by("assignment__round__number", "assignment__item_id", "assignment__evaluator_id")
    rows = list(
        rows.values_list(
            "assignment__round__number", "assignment__item_id", "assignment__evaluator_id", "label_id", "verdict"
        )
    )
    coded = [(r, i, e, label if label is not None else _VERDICT_CODES[verdict]) for r, i, e, label, verdict in rows]
    label_names = dict(Label.objects.filter(project=project).order_by().values_list("id", "name"))
    rater_ids = {row[2] for row in rows}
    rater_names = dict(
        get_user_model().objects.filter(id__in=rater_ids).order_by().values_list("id", "username") if rater_ids else ()
    )
    found = dict(_ratings_of_rows(coded, label_names, rater_names))
    empty = Ratings(*(np.zeros(0, np.int64) for _ in range(3)), [], [])
    return [(n, found.get(n, empty)) for n in numbers]


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
