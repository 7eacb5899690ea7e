"""Agreement from the database: the study's rounds, live rounds, interviews, scopes, the command,
the API, the page and the round page; query counts stay flat."""

import csv
import io
import json
from collections import defaultdict

import krippendorff
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from interviews.models import InterviewCoder, Piece
from labelling.exports import annotations_export_jsonl
from labelling.models import Round, RoundItem, Verdict
from reports.agreement import levels_of
from reports.selectors import interview_ratings, project_agreement, round_ratings, taxonomy_paths
from taxonomy.round_import import round_import_file
from tests.factories import (
    AnnotationFactory,
    ArtefactFactory,
    AssignmentFactory,
    LabelFactory,
    LeafFactory,
    NodeFactory,
    RoundFactory,
    RoundItemFactory,
    UserFactory,
    member,
)
from tests.interviews.factories import InterviewFactory

pytestmark = pytest.mark.django_db


def import_fixture(project, replication_dir, n):
    return round_import_file(
        project=project,
        data=(replication_dir / f"round_{n}.xlsx").read_bytes(),
        filename=f"round_{n}.xlsx",
        number=n,
        outline_data=(replication_dir / "taxonomy_outline.csv").read_bytes(),
        outline_name="taxonomy_outline.csv",
    )


@pytest.fixture
def study(project, replication_dir):
    import_fixture(project, replication_dir, 1)
    import_fixture(project, replication_dir, 2)
    return project


def alpha_of_export_lines(project) -> dict:
    """Krippendorff's alpha (the krippendorff package) per round from export_annotations' lines:
    value = label name, or the verdict; unit = artefact; coder = evaluator."""
    by_round = defaultdict(list)
    for line in annotations_export_jsonl(project):
        record = json.loads(line)
        if record["type"] == "annotation":
            value = record["label"] if record["label"] is not None else f"verdict:{record['verdict']}"
            by_round[record["round"]].append((record["artefact"], record["evaluator"], value))
    alphas = {}
    for number, triples in by_round.items():
        units = sorted({t[0] for t in triples})
        coders = sorted({t[1] for t in triples})
        values = sorted({t[2] for t in triples})
        matrix = np.full((len(coders), len(units)), np.nan)
        for unit, coder, value in triples:
            matrix[coders.index(coder), units.index(unit)] = values.index(value)
        try:
            alphas[number] = krippendorff.alpha(matrix, level_of_measurement="nominal")
        except ValueError:
            alphas[number] = None
    return alphas, {n: len(t) for n, t in by_round.items()}


def test_study_rounds_give_a_row_per_round_and_level_and_the_packages_leaf_alpha(study):
    report = project_agreement(study)
    levels = levels_of(taxonomy_paths(study))
    assert levels[:3] == ["leaf", "1", "2"]
    assert [(r["round"], r["level"]) for r in report["rows"]] == [(n, level) for n in (1, 2) for level in levels]
    expected, ratings = alpha_of_export_lines(study)
    assert set(expected) == {1, 2}
    for row in report["rows"]:
        if row["level"] == "leaf":
            assert row["ratings"] == ratings[row["round"]]
            assert row["krippendorff_alpha"] is not None
            assert row["krippendorff_alpha"] == pytest.approx(expected[row["round"]], abs=5e-5)
    # round 1: 29 artefacts, evaluators named in the spreadsheet; pairs name them
    first = report["rows"][0]
    assert first["items"] == 29 and first["alpha_ci95"][0] <= first["krippendorff_alpha"] <= first["alpha_ci95"][1]
    assert {p["round"] for p in report["pairs"]} == {1, 2}
    assert all(p["items"] >= 1 for p in report["pairs"])
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_command_prints_the_issues_json_shape(study, capsys):
    call_command("agreement", study.slug, "--round", "1", "--level", "leaf", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"rows", "pairs", "disagreements"}
    assert [(r["round"], r["level"]) for r in data["rows"]] == [(1, "leaf")]
    assert set(data["rows"][0]) == {
        "round", "level", "items", "ratings", "percent", "cohen_kappa_mean", "fleiss_kappa",
        "krippendorff_alpha", "alpha_ci95",
    }  # fmt: skip
    assert all(set(p) == {"round", "a", "b", "items", "cohen_kappa"} for p in data["pairs"])
    assert all(set(d) == {"round", "level", "value_a", "value_b", "count"} for d in data["disagreements"])
    assert {d["level"] for d in data["disagreements"]} == {"leaf"}


def test_command_formats_and_output_file(study, tmp_path, capsys):
    target = tmp_path / "agreement.csv"
    call_command("agreement", study.slug, "--format", "csv", "--output", str(target))
    rows = list(csv.reader(io.StringIO(target.read_text().split("\n\n")[0])))
    assert rows[0][:3] == ["round", "level", "items"] and len(rows) == 1 + 2 * len(levels_of(taxonomy_paths(study)))
    for fmt, marker in (("latex", r"\begin{tabular}"), ("markdown", "| Round | Level |"), ("table", "Kripp. α")):
        call_command("agreement", study.slug, "--level", "1", "--format", fmt)
        assert marker in capsys.readouterr().out


def test_command_rejects_an_unknown_round_and_a_bad_level(study):
    with pytest.raises(CommandError, match="no round 7"):
        call_command("agreement", study.slug, "--round", "7", "--format", "json")
    with pytest.raises(CommandError, match="level"):
        call_command("agreement", study.slug, "--level", "top", "--format", "json")
    with pytest.raises(CommandError, match="No project"):
        call_command("agreement", "nope", "--format", "json")


# --------------------------------------------------------------------------- live rounds


def live_round(project, *, pairs, status=RoundItem.Status.AGREED, kind="so_question", framework="keras", number=1):
    """A Concord round whose items have the given (evaluator, label or verdict) answers."""
    rnd = Round.objects.filter(project=project, number=number).first() or RoundFactory(
        project=project, number=number, source=Round.Source.CONCORD
    )
    for answers in pairs:
        artefact = ArtefactFactory(project=project, kind=kind, framework=framework)
        item = RoundItemFactory(round=rnd, artefact=artefact, status=status)
        for order, (evaluator, value) in enumerate(answers, start=1):
            assignment = AssignmentFactory(item=item, round=rnd, evaluator=evaluator, order=order)
            if value in Verdict.values:
                AnnotationFactory(assignment=assignment, label=None, verdict=value)
            else:
                AnnotationFactory(assignment=assignment, label=value)
    return rnd


@pytest.fixture
def people(project):
    return [member(project, evaluator=True, username=name) for name in ("ana", "ben", "cy")]


def test_live_round_counts_items_past_labelling_only(project, people):
    ana, ben, cy = people
    x, y = LabelFactory(project=project, name="x"), LabelFactory(project=project, name="y")
    live_round(project, pairs=[[(ana, x), (ben, x)], [(ana, y), (ben, "generic")], [(ana, x), (ben, y), (cy, y)]])
    live_round(project, pairs=[[(ana, x), (ben, y)]], status=RoundItem.Status.LABELLING)
    [(number, ratings)] = round_ratings(project)
    assert number == 1 and len(ratings) == 7
    report = project_agreement(project)
    row = report["rows"][0]
    assert (row["items"], row["ratings"], row["level"]) == (3, 7, "leaf")
    # by hand: values x, x | y, generic | x, y, y — n = 7, n_x = 3, n_y = 3, n_generic = 1;
    # off-diagonal coincidences 0 + 2 + (9 − 5)/2 = 4; alpha = 1 − 6·4 / (49 − 19) = 0.2
    assert row["krippendorff_alpha"] == pytest.approx(0.2)
    assert row["percent"] == pytest.approx((1 + 0 + 1 / 3) / 3, abs=1e-4)
    assert row["fleiss_kappa"] is None
    assert {(p["a"], p["b"], p["items"]) for p in report["pairs"]} == {
        ("ana", "ben", 3),
        ("ana", "cy", 1),
        ("ben", "cy", 1),
    }
    assert ("Generic", "y") in {(d["value_a"], d["value_b"]) for d in report["disagreements"]} or (
        "y",
        "Generic",
    ) in {(d["value_a"], d["value_b"]) for d in report["disagreements"]}


def test_levels_map_labels_to_their_nodes(project, people):
    ana, ben, _ = people
    top = NodeFactory(project=project, name="Tensors & Inputs", code="4")
    inner = NodeFactory(project=project, name="Wrong shape", code="4.1", parent=top)
    shape = LabelFactory(project=project, name="wrong tensor shape")
    layer_input = LabelFactory(project=project, name="wrong shape of input data for a layer")
    other = LabelFactory(project=project, name="missing softmax")
    LeafFactory(node=inner, label=shape)
    LeafFactory(node=top, label=layer_input)
    live_round(
        project,
        pairs=[
            [(ana, shape), (ben, layer_input)],
            [(ana, other), (ben, other)],
            [(ana, "false_positive"), (ben, "false_positive")],
            [(ana, shape), (ben, shape)],
        ],
    )
    assert taxonomy_paths(project)["wrong tensor shape"][-1].name == "4.1 Wrong shape"
    report = project_agreement(project)
    alpha = {r["level"]: r["krippendorff_alpha"] for r in report["rows"]}
    assert list(alpha) == ["leaf", "1", "2"]
    assert alpha["leaf"] < 1 and alpha["1"] == 1.0
    assert alpha["2"] < 1  # at depth 2 "wrong tensor shape" is under 4.1, the other label stays at 4
    leaf_disagreements = [d for d in report["disagreements"] if d["level"] == "leaf"]
    assert leaf_disagreements == [
        {
            "round": 1,
            "level": "leaf",
            "value_a": "wrong shape of input data for a layer",
            "value_b": "wrong tensor shape",
            "count": 1,
        }
    ]
    level2 = [(d["value_a"], d["value_b"]) for d in report["disagreements"] if d["level"] == "2"]
    assert level2 == [("4 Tensors & Inputs", "4.1 Wrong shape")]


def test_scopes_by_kind_and_framework(project, people):
    ana, ben, _ = people
    x, y = LabelFactory(project=project, name="x"), LabelFactory(project=project, name="y")
    live_round(project, pairs=[[(ana, x), (ben, x)], [(ana, y), (ben, y)]], kind="so_question", framework="keras")
    live_round(project, pairs=[[(ana, x), (ben, y)], [(ana, y), (ben, x)]], kind="gh_issue", framework="torch")
    both = project_agreement(project, level="leaf")["rows"][0]
    so = project_agreement(project, level="leaf", kind="so_question")["rows"][0]
    torch = project_agreement(project, level="leaf", framework="torch")["rows"][0]
    assert (both["items"], so["items"], torch["items"]) == (4, 2, 2)
    assert so["krippendorff_alpha"] == 1.0 and so["percent"] == 1.0
    assert torch["percent"] == 0.0 and torch["krippendorff_alpha"] < 0


def test_a_round_without_ratings_has_a_row_of_nulls(project):
    RoundFactory(project=project, number=1)
    row = project_agreement(project)["rows"][0]
    assert (row["round"], row["items"], row["ratings"]) == (1, 0, 0)
    assert row["krippendorff_alpha"] is None and row["percent"] is None and row["alpha_ci95"] is None


def test_interviews_scope_pieces_tagged_by_both_evaluators(project, people):
    ana, ben, _ = people
    LabelFactory(project=project, name="Learning rate too high")
    interview = InterviewFactory(project=project)
    InterviewCoder.objects.create(interview=interview, user=ana, role="evaluator", slot=1)
    InterviewCoder.objects.create(interview=interview, user=ben, role="evaluator", slot=2)
    tags = [("learning rate too high", "Learning rate too high"), ("noisy labels", "not enough data"), ("x", "")]
    for position, (tag1, tag2) in enumerate(tags, start=1):
        Piece.objects.create(
            interview=interview, position=position, kind="imported", evaluator1_tag=tag1, evaluator2_tag=tag2
        )
    ratings = interview_ratings(project)
    assert len(ratings) == 4 and list(ratings.rater_names) == ["ana", "ben"]
    row = next(r for r in project_agreement(project)["rows"] if r["round"] == "interviews")
    assert (row["items"], row["ratings"], row["percent"]) == (2, 4, 0.5)
    assert project_agreement(project, number=1) == {"rows": [], "pairs": [], "disagreements": []}


def test_queries_stay_flat(project, people):
    ana, ben, cy = people
    labels = [LabelFactory(project=project, name=f"label {i}") for i in range(4)]
    node = NodeFactory(project=project)
    LeafFactory(node=node, label=labels[0])
    live_round(project, pairs=[[(ana, labels[0]), (ben, labels[1])]])
    with CaptureQueriesContext(connection) as small:
        project_agreement(project)
    for number in (2, 3):
        live_round(
            project,
            number=number,
            pairs=[[(ana, labels[i % 4]), (ben, labels[(i + 1) % 4]), (cy, "unclear")] for i in range(6)],
        )
    with CaptureQueriesContext(connection) as large:
        project_agreement(project)
    assert len(large) == len(small) <= 8


# --------------------------------------------------------------------------- API and pages


def test_api_for_members_only(study):
    url = f"/api/projects/{study.slug}/agreement/"
    client = APIClient()
    assert client.get(url).status_code == 401
    outsider = UserFactory()
    client.force_authenticate(outsider)
    assert client.get(url).status_code == 404
    evaluator = member(study, evaluator=True)
    client.force_authenticate(evaluator)
    response = client.get(url, {"round": 2, "level": "1"})
    assert response.status_code == 200
    data = response.json()
    assert [(r["round"], r["level"]) for r in data["rows"]] == [(2, "1")]
    full = project_agreement(study, number=2, level="1")
    assert full["disagreements"]  # the round has disagreements…
    assert data == {**full, "disagreements": []}  # …whose label names only leads and moderators see
    client.force_authenticate(member(study, moderator=True, username="moderator"))
    assert client.get(url, {"round": 2, "level": "1"}).json() == full
    assert client.get(url, {"level": "top"}).status_code == 400
    assert client.get(url, {"round": 9}).status_code == 404
    assert reverse("agreement-api", kwargs={"project_slug": study.slug}) == url


def test_page_shows_table_chart_heat_map_and_disagreements(study, client):
    viewer = member(study, moderator=True)
    client.force_login(viewer)
    url = reverse("reports:agreement", args=[study.slug])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for marker in ('id="agreement-table"', 'id="agreement-chart"', 'class="heatmap"', 'id="agreement-disagreements"'):
        assert marker in html
    assert "Round 1" in html and "Level 1" in html
    fragment = client.get(url, {"level": "1"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.content.decode().lstrip().startswith('<div id="agreement-level">')
    download = client.get(url, {"format": "json"})
    assert download["Content-Disposition"].endswith('-agreement.json"')
    assert json.loads(download.content) == project_agreement(study)
    assert client.get(url, {"format": "pdf"}).status_code == 400
    client.force_login(member(study, evaluator=True, username="evaluator"))  # no label names for evaluators
    assert json.loads(client.get(url, {"format": "json"}).content) == {**project_agreement(study), "disagreements": []}
    assert 'id="disagreements-hidden"' in client.get(url).content.decode()


def test_round_page_loads_alpha_next_to_percent_agreement(project, people, client):
    ana, ben, _ = people
    lead = member(project, lead=True)
    x, y = LabelFactory(project=project, name="x"), LabelFactory(project=project, name="y")
    live_round(project, pairs=[[(ana, x), (ben, x)], [(ana, y), (ben, y)], [(ana, x), (ben, y)]])
    client.force_login(lead)
    page = client.get(reverse("labelling:round", args=[project.slug, 1])).content.decode()
    alpha_url = reverse("reports:round_alpha", args=[project.slug, 1])
    assert f'hx-get="{alpha_url}"' in page and 'id="agreement"' in page
    fragment = client.get(alpha_url).content.decode()
    alpha = project_agreement(project, number=1, level="leaf")["rows"][0]["krippendorff_alpha"]
    assert f"α {alpha:.2f}" in fragment
    assert client.get(reverse("reports:round_alpha", args=[project.slug, 5])).status_code == 404


def test_openapi_schema_of_the_agreement_api_generates_without_warnings():
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/", include("reports.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert dict(GENERATOR_STATS._warn_cache) == {} and dict(GENERATOR_STATS._error_cache) == {}
    validate_schema(schema)
    operation = schema["paths"]["/api/projects/{project_slug}/agreement/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"round", "level", "kind", "framework"}
