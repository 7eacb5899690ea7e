"""import_artefacts with Label Studio and doccano exports; kept annotations become an imported round.

The blindness check: no imported label or annotation reaches any field an evaluator sees on an
artefact (title, body, tags, metadata, kind, framework)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collection.models import Artefact
from core.models import Membership, Project
from labelling.models import Annotation, Round
from tests.collection.test_exchange_formats import DOCCANO_JSONL, LS_CSV, LS_JSON, LS_MIN
from tests.factories import member
from tests.helpers import api_client

pytestmark = pytest.mark.django_db

SECRET_LABELS = ["Wrong loss function", "Wrong optimiser", "GPU Usage", "Positive", "Negative", "nan loss"]


def _run(tmp_path, name, content, *args):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    out = tmp_path / "stdout.json"
    with open(out, "w") as stdout, open(tmp_path / "stderr.txt", "w") as stderr:
        call_command("import_artefacts", "ex", str(path), "--lead", "ex-lead", *args, stdout=stdout, stderr=stderr)
    return json.loads(out.read_text()), (tmp_path / "stderr.txt").read_text()


def _visible(project_slug="ex") -> str:
    """Everything an evaluator sees of the project's artefacts."""
    rows = Artefact.objects.filter(project__slug=project_slug).values(
        "url", "title", "body", "tags", "metadata", "kind", "framework"
    )
    return json.dumps(list(rows), ensure_ascii=False)


def _assert_blind():
    visible = _visible()
    for label in SECRET_LABELS:
        assert label not in visible, label
    for artefact in Artefact.objects.filter(project__slug="ex"):
        assert artefact.tags == []
        assert not {"annotation_id", "annotator", "sentiment", "fault", "label"} & set(artefact.metadata)


def test_labelstudio_json_tasks_become_artefacts_and_annotations_stay_out(tmp_path):
    report, stderr = _run(tmp_path, "export.json", LS_JSON)
    assert report["created"] == 2
    assert report["exchange"]["tool"] == "label-studio" and report["exchange"]["annotations"] == 3
    assert "--keep-annotations" in stderr
    loss = Artefact.objects.get(project__slug="ex", url="https://stackoverflow.com/questions/111")
    assert loss.body == "Loss is nan after a few epochs"
    assert loss.metadata["data.meta_info.source"] == "so"
    _assert_blind()
    assert not Round.objects.filter(project__slug="ex").exists()


def test_labelstudio_json_annotations_kept_become_an_imported_round(tmp_path):
    report, _ = _run(tmp_path, "export.json", LS_JSON, "--keep-annotations")
    imported = report["imported_round"]
    assert imported["round"] == 1
    rnd = Round.objects.get(project__slug="ex", number=1)
    annotations = Annotation.objects.filter(assignment__round=rnd).select_related("assignment__evaluator", "label")
    got = sorted((a.assignment.evaluator.username, a.label.name) for a in annotations)
    assert got == [("ex-10", "Wrong loss function"), ("ex-bobexamplecom", "Wrong loss function")]
    externals = dict(
        Membership.objects.filter(project__slug="ex", is_active=False).values_list("user__username", "external_id")
    )
    assert externals == {"ex-10": "10", "ex-bobexamplecom": "bob@example.com"}
    _assert_blind()
    # importing the same file again changes nothing
    again, _ = _run(tmp_path, "export.json", LS_JSON, "--keep-annotations", "--round", "1")
    assert again["created"] == 0 and not again["imported_round"]["changed"]


def test_labelstudio_min_and_csv_never_turn_annotation_columns_into_fields(tmp_path):
    report, stderr = _run(tmp_path, "min.json", LS_MIN, "--keep-annotations", "--label-field", "fault")
    assert report["exchange"]["format"] == "json-min" and report["created"] == 1
    assert "sentiment" in report["exchange"]["flagged"] and "sentiment" in stderr
    _assert_blind()
    report, _ = _run(tmp_path, "ls.csv", LS_CSV, "--keep-annotations", "--round", "5")
    assert report["exchange"]["format"] == "csv" and report["imported_round"]["round"] == 5
    _assert_blind()


def test_a_flagged_column_is_mapped_only_when_asked_by_name(tmp_path):
    report, _ = _run(tmp_path, "min.json", LS_MIN, "--label-field", "fault", "--map", "sentiment=framework")
    assert report["exchange"]["flagged_mapped"] == ["sentiment"]
    assert Artefact.objects.get(project__slug="ex").framework == "Positive"


def test_doccano_jsonl_without_links_gets_stable_identifiers_and_a_round(tmp_path):
    report, _ = _run(tmp_path, "docs.jsonl", DOCCANO_JSONL, "--keep-annotations", "--evaluator", "alice")
    assert report["created"] == 4 and report["exchange"]["links_made"] == 4
    urls = sorted(Artefact.objects.filter(project__slug="ex").values_list("url", flat=True))
    assert urls[0] == "https://doccano.invalid/id/1"
    rnd = Round.objects.get(project__slug="ex")
    labels = sorted(Annotation.objects.filter(assignment__round=rnd).values_list("label__name", flat=True))
    assert labels == ["LIB", "shape", "wrong loss"]
    visible = _visible()
    assert "wrong loss" not in visible and "LIB" not in visible
    again, _ = _run(tmp_path, "docs.jsonl", DOCCANO_JSONL)
    assert again["created"] == 0


def test_a_forced_tool_that_does_not_fit_is_refused(tmp_path):
    with pytest.raises(CommandError, match="doccano"):
        _run(tmp_path, "x.json", [{"url": "https://a.b/c"}], "--tool", "doccano")
    assert not Artefact.objects.exists()


def test_an_evaluator_sees_no_imported_label_on_the_artefact(tmp_path):
    """Blindness: after the import with annotations kept, the artefact's fields an evaluator is shown
    (the API's artefact, as the labelling page renders it) hold none of the labels, and nobody's
    individual answer is shown. (A round decided by the import shows its decision among the
    artefact's past rounds, as every imported round does.)"""
    _run(tmp_path, "export.json", LS_JSON, "--keep-annotations")
    evaluator = member(Project.objects.get(slug="ex"), evaluator=True, username="ex-new-eva")
    artefact = Artefact.objects.get(project__slug="ex", url="https://stackoverflow.com/questions/111")
    response = api_client(evaluator).get(f"/api/projects/ex/artefacts/{artefact.id}/")
    assert response.status_code == 200
    data = response.json()
    fields = json.dumps({k: v for k, v in data.items() if k != "rounds"}, ensure_ascii=False)
    assert "Loss is nan after a few epochs" in fields
    for label in SECRET_LABELS:
        assert label not in fields
    shown = response.content.decode()
    for who in ("bob@example.com", "ex-bobexamplecom", "ex-10", "nan loss", "GPU Usage"):
        assert who not in shown
