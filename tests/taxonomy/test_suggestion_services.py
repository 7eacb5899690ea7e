"""Suggestions in the project (issue 15): history from decided items only, merge accept / undo /
reject, the commands, the API and the pages."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.errors import Conflict, NotAllowed
from labelling.models import Annotation, Label, RoundItem
from taxonomy import selectors as taxonomy_selectors
from taxonomy import suggestion_selectors as selectors
from taxonomy import suggestion_services as services
from taxonomy.models import LabelMerge, LabelVector, Leaf, MergeRejection
from taxonomy.suggestions.semantic import semantic_available
from tests.factories import (
    AnnotationFactory,
    ArtefactFactory,
    AssignmentFactory,
    LabelFactory,
    LeafFactory,
    NodeFactory,
    RoundFactory,
    RoundItemFactory,
)


def _label(project, name):
    return Label.objects.filter(project=project, name=name).first() or LabelFactory(project=project, name=name)


def _item(project, rnd, tags, *, status=RoundItem.Status.AGREED, leaf=None, evaluators=()):
    """An artefact of `rnd` tagged by one evaluator per tag; decided with the first tag unless `status` says not."""
    item = RoundItemFactory(round=rnd, artefact=ArtefactFactory(project=project), status=status)
    for order, tag in enumerate(tags, start=1):
        evaluator = evaluators[order - 1] if len(evaluators) >= order else None
        kwargs = {"evaluator": evaluator} if evaluator else {}
        assignment = AssignmentFactory(item=item, order=order, **kwargs)
        AnnotationFactory(assignment=assignment, label=_label(project, tag))
    if status in RoundItem.DECIDED:
        item.final_label = _label(project, tags[0])
        item.taxonomy_label = leaf.label if leaf else item.final_label
        item.leaf = leaf
        item.save()
    return item


@pytest.fixture
def study(team):
    """Two closed rounds shaped like the study's: evaluators' wordings placed under taxonomy leaves."""
    project = team.project
    r1 = RoundFactory(project=project, number=1, status="closed")
    r2 = RoundFactory(project=project, number=2, status="closed")
    training = NodeFactory(project=project, name="Training")
    hyper = NodeFactory(project=project, name="Hyperparameters", parent=training)
    inputs = NodeFactory(project=project, name="Tensors & Inputs")
    shape = NodeFactory(project=project, name="Wrong Shape of Input Data", parent=inputs)
    lr = LeafFactory(node=hyper, label=_label(project, "suboptimal learning rate"), round_created=r1)
    layer = LeafFactory(node=shape, label=_label(project, "wrong shape of input data for a layer"), round_created=r1)
    _item(project, r1, ["learning rate too high", "too high learning rate value for sgd optimizer"], leaf=lr)
    _item(project, r1, ["mismatch between input size and network size", "tensor shape mismatch"], leaf=layer)
    _item(project, r2, ["tensor shape mismatch", "wrong input shape"], leaf=layer)
    return {"project": project, "rounds": (r1, r2), "lr": lr, "layer": layer, "hyper": hyper, "shape": shape}


def _paths(result):
    return [s["path"] for s in result["leaves"]]


def test_suggestions_come_from_decided_items_only(study, team):
    project = study["project"]
    r3 = RoundFactory(project=project, number=3, status="open")
    # an item still being labelled and a conflict, both (wrongly) pointing at the lr leaf
    for status in (RoundItem.Status.LABELLING, RoundItem.Status.CONFLICT):
        item = _item(project, r3, ["exploding gradient quirk"], status=status)
        item.leaf = study["lr"]
        item.save()
    history = selectors.suggestion_history(project=project)
    texts = {p.text for p in history}
    assert "too high learning rate value for sgd optimizer" in texts  # an evaluator's tag of a decided item
    assert "exploding gradient quirk" not in texts
    (result,) = selectors.leaf_suggestions(project=project, texts=["exploding gradient quirk"])
    assert all(s["score"] < 0.6 for s in result["leaves"])
    # once decided, the same wording teaches the scorer
    item.status = RoundItem.Status.RESOLVED
    item.save()
    (result,) = selectors.leaf_suggestions(project=project, texts=["exploding gradient quirk"])
    assert result["leaves"][0]["path"] == "Training > Hyperparameters > suboptimal learning rate"
    assert result["leaves"][0]["score"] > 0.8


def test_leaf_suggestions_rank_the_right_leaf_with_its_path(study):
    project = study["project"]
    results = selectors.leaf_suggestions(project=project, texts=["lr too high", "input shape mismatch"], top=2)
    assert _paths(results[0])[0] == "Training > Hyperparameters > suboptimal learning rate"
    assert (
        _paths(results[1])[0] == "Tensors & Inputs > Wrong Shape of Input Data > wrong shape of input data for a layer"
    )
    assert results[0]["leaves"][0]["node"] == study["hyper"].id
    with_categories = selectors.leaf_suggestions(project=project, texts=["hyperparameters"], categories=True)
    assert with_categories[0]["leaves"][0]["path"] == "Training > Hyperparameters"


def test_rounds_restrict_the_history(study):
    project = study["project"]
    only_2 = {p.text for p in selectors.suggestion_history(project=project, rounds=[2])}
    assert "wrong input shape" in only_2 and "learning rate too high" not in only_2
    assert {p.round for p in selectors.suggestion_history(project=project, rounds=[1])} == {1}


def _state(project):
    """Everything a merge touches, to compare before and after."""
    labels = sorted(Label.objects.filter(project=project).values_list("id", "name", "description", "in_catalogue"))
    annotations = sorted(
        Annotation.objects.filter(label__project=project).values_list("id", "label_id", "label__name", "history")
    )
    items = sorted(
        RoundItem.objects.filter(round__project=project).values_list(
            "id", "status", "final_label_id", "taxonomy_label_id", "leaf_id", "is_conflict", "history"
        )
    )
    leaves = sorted(
        Leaf.objects.filter(node__project=project).values_list("id", "node_id", "label_id", "round_created")
    )
    counts = [(r["number"], r["new_leaves"]) for r in taxonomy_selectors.new_categories_by_round(project)]
    return {"labels": labels, "annotations": annotations, "items": items, "leaves": leaves, "counts": counts}


def test_a_merge_accepted_then_undone_restores_labels_annotations_and_counts(study, team):
    project, r2 = study["project"], study["rounds"][1]
    # the evaluators' wording as a leaf of its own in round 2 (what makes Table 1 count too many leaves)
    mismatch = _label(project, "tensor shape mismatch")
    LeafFactory(node=study["shape"], label=mismatch, round_created=r2)
    r3 = RoundFactory(project=project, number=3, status="open")
    # a conflict the merge decides: its two tags become one
    conflict = _item(
        project,
        r3,
        ["wrong shape of input data for a layer", "tensor shape mismatch"],
        status=RoundItem.Status.CONFLICT,
        evaluators=team.evaluators[:2],
    )
    conflict.is_conflict = True
    conflict.save()
    before = _state(project)
    target = study["layer"].label

    record = services.merge_suggestion_accept(project=project, user=team.lead, label_ids=[target.id, mismatch.id])
    after = _state(project)
    assert not Label.objects.filter(id=mismatch.id).exists()
    assert Annotation.objects.filter(label=mismatch.id).count() == 0
    assert all(name != "tensor shape mismatch" for *_, name, _ in after["annotations"])
    assert dict(after["counts"])[2] == dict(before["counts"])[2] - 1  # Table 1 follows the merged labels
    conflict.refresh_from_db()
    assert conflict.status == RoundItem.Status.AGREED and not conflict.is_conflict
    assert record.snapshot["merges"] and "tensor shape mismatch" in record.summary

    undone = services.label_merge_undo(project=project, user=team.lead)
    assert undone.id == record.id and undone.undone_at is not None
    assert _state(project) == before
    with pytest.raises(Exception, match="No merge to undo"):
        services.label_merge_undo(project=project, user=team.lead)


def test_only_the_latest_merge_is_undone_and_not_by_an_evaluator(study, team):
    project = study["project"]
    a, b, c = (_label(project, n) for n in ("learning rate too high", "lr too high", "too high lr"))
    first = services.merge_suggestion_accept(project=project, user=team.lead, label_ids=[a.id, b.id])
    services.merge_suggestion_accept(project=project, user=team.lead, label_ids=[a.id, c.id])
    with pytest.raises(Conflict):
        services.label_merge_undo(project=project, user=team.lead, merge_id=first.id)
    with pytest.raises(NotAllowed):
        services.label_merge_undo(project=project, user=team.evaluators[0])
    with pytest.raises(NotAllowed):
        services.merge_suggestion_accept(project=project, user=team.evaluators[0], label_ids=[a.id, c.id])
    services.label_merge_undo(project=project, user=team.moderator)  # moderators accept and undo


def test_a_moderator_accepts_a_suggested_merge(study, team):
    project = study["project"]
    a, b = (_label(project, n) for n in ("wrong input shape", "input shape wrong"))
    record = services.merge_suggestion_accept(project=project, user=team.moderator, label_ids=[a.id, b.id])
    assert record.target_id == a.id and not type(b).objects.filter(id=b.id).exists()


def _cluster_sets(project):
    return [set(c["labels"]) for c in selectors.merge_suggestions(project=project)]


def test_merge_suggestions_and_rejected_pairs_stay_rejected(study, team):
    project = study["project"]
    clusters = selectors.merge_suggestions(project=project)
    lr = next(c for c in clusters if "learning rate too high" in c["labels"])
    assert "too high learning rate value for sgd optimizer" in lr["labels"]
    if "suboptimal learning rate" in lr["labels"]:
        assert lr["labels"][0] == "suboptimal learning rate"  # the leaf's own label is the one kept
    (evidence,) = [e for e in lr["evidence"] if "too high learning rate value for sgd optimizer" in e["pair"]][:1]
    assert evidence["co_occurrences"] >= 1 and "suboptimal learning rate" in evidence["shared_leaves"]

    ids = [
        Label.objects.get(project=project, name=n).id
        for n in ("learning rate too high", "too high learning rate value for sgd optimizer")
    ]
    assert services.merge_suggestion_reject(project=project, user=team.moderator, label_ids=ids) == 1
    assert services.merge_suggestion_reject(project=project, user=team.moderator, label_ids=ids) == 0
    assert MergeRejection.objects.filter(project=project).count() == 1
    assert all(
        not {"learning rate too high", "too high learning rate value for sgd optimizer"} <= s
        for s in _cluster_sets(project)
    )
    # an unrelated merge and its undo leave the rejection in force
    shape = [Label.objects.get(project=project, name=n).id for n in ("tensor shape mismatch", "wrong input shape")]
    services.merge_suggestion_accept(project=project, user=team.lead, label_ids=shape)
    services.label_merge_undo(project=project, user=team.lead)
    assert all(
        not {"learning rate too high", "too high learning rate value for sgd optimizer"} <= s
        for s in _cluster_sets(project)
    )
    out = StringIO()
    call_command("suggest_merges", project.slug, "--format", "json", stdout=out)
    clusters = json.loads(out.getvalue())["clusters"]
    assert all(set(c) == {"labels", "score", "evidence"} for c in clusters)
    assert all(
        not {"learning rate too high", "too high learning rate value for sgd optimizer"} <= set(c["labels"])
        for c in clusters
    )


def test_suggest_leaves_command(study, tmp_path):
    project = study["project"]
    out = StringIO()
    call_command(
        "suggest_leaves",
        project.slug,
        "--text",
        "learning rate is too high",
        "--top",
        "2",
        "--format",
        "json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    (entry,) = payload["suggestions"]
    assert entry["text"] == "learning rate is too high" and len(entry["leaves"]) <= 2
    assert set(entry["leaves"][0]) == {"name", "path", "score"}
    assert entry["leaves"][0]["name"] == "suboptimal learning rate"
    assert entry["leaves"][0]["path"] == "Training > Hyperparameters > suboptimal learning rate"
    lines = tmp_path / "labels.txt"
    lines.write_text("wrong input shape\n\ntoo high lr\n", encoding="utf-8")
    out = StringIO()
    call_command("suggest_leaves", project.slug, "--input", str(lines), "--rounds", "2", "--format", "json", stdout=out)
    texts = [s["text"] for s in json.loads(out.getvalue())["suggestions"]]
    assert texts == ["wrong input shape", "too high lr"]
    out = StringIO()
    call_command("suggest_leaves", project.slug, "--text", "wrong input shape", "--format", "table", stdout=out)
    assert "Tensors & Inputs > Wrong Shape of Input Data" in out.getvalue()


def test_api_is_for_moderators_and_leads(study, team, client):
    project = study["project"]
    url = f"/api/projects/{project.slug}/taxonomy/suggestions/leaves/"
    client.force_login(team.evaluators[0])
    assert client.get(url, {"text": "lr too high"}).status_code == 403
    client.force_login(team.moderator)
    response = client.get(url, {"text": ["lr too high", "wrong input shape"], "top": 3, "rounds": "1-2"})
    assert response.status_code == 200
    data = response.json()
    assert [s["text"] for s in data["suggestions"]] == ["lr too high", "wrong input shape"]
    assert data["suggestions"][0]["leaves"][0]["name"] == "suboptimal learning rate"
    assert client.get(url, {"text": "x", "rounds": "5-1"}).status_code == 400
    merges = client.get(f"/api/projects/{project.slug}/taxonomy/suggestions/merges/").json()["clusters"]
    cluster = next(c for c in merges if "learning rate too high" in c["labels"])
    reject = client.post(
        f"/api/projects/{project.slug}/taxonomy/suggestions/merges/reject/",
        {"labels": cluster["label_ids"]},
        content_type="application/json",
    )
    assert reject.status_code == 200 and reject.json()["rejected"] >= 1
    client.force_login(team.lead)
    shape = [Label.objects.get(project=project, name=n).id for n in ("wrong input shape", "tensor shape mismatch")]
    accept = client.post(
        f"/api/projects/{project.slug}/taxonomy/suggestions/merges/accept/",
        {"labels": shape},
        content_type="application/json",
    )
    assert accept.status_code == 200, accept.content
    assert not Label.objects.filter(id=shape[1]).exists()
    undo = client.post(
        f"/api/projects/{project.slug}/taxonomy/suggestions/merges/undo/", {}, content_type="application/json"
    )
    assert undo.status_code == 200 and undo.json()["undone_at"]
    assert Label.objects.filter(id=shape[1], name="tensor shape mismatch").exists()


def test_pages_show_suggestions_to_moderators_only(study, team, client):
    project = study["project"]
    r3 = RoundFactory(project=project, number=3, status="open")
    conflict = _item(project, r3, ["lr way too high", "bad input shape"], status=RoundItem.Status.CONFLICT)
    conflict.is_conflict = True
    conflict.save()
    fragment = reverse("taxonomy:suggest", args=[project.slug])
    client.force_login(team.evaluators[0])
    assert client.get(fragment, {"item": conflict.id}).status_code in (403, 404)
    assert client.get(reverse("taxonomy:merges", args=[project.slug])).status_code in (403, 404)
    client.force_login(team.moderator)
    page = client.get(reverse("labelling:conflict", args=[project.slug, conflict.id]))
    assert page.status_code == 200 and f"?item={conflict.id}".encode() in page.content
    body = client.get(fragment, {"item": conflict.id}).content.decode()
    assert "lr way too high" in body and "Training &gt; Hyperparameters &gt; suboptimal learning rate" in body
    merges = client.get(reverse("taxonomy:merges", args=[project.slug])).content.decode()
    assert "learning rate too high" in merges and "Not synonyms" in merges
    # the review list of a closed round, and "attach to …" in the builder for an unmapped label
    unmapped = _item(project, study["rounds"][1], ["learning rate far too high"])
    assert unmapped.leaf is None
    review = client.get(reverse("taxonomy:round_review", args=[project.slug, 2])).content.decode()
    assert "learning rate far too high" in review and "attach here" in review
    assert "still open" in client.get(reverse("taxonomy:round_review", args=[project.slug, 3])).content.decode()
    tree = client.get(reverse("taxonomy:tree", args=[project.slug])).content.decode()
    assert "attach to Training &gt; Hyperparameters" in tree and 'data-key="a"' in tree
    response = client.post(
        reverse("taxonomy:attach", args=[project.slug]),
        {"labels": str(unmapped.final_label_id), "node": str(study["hyper"].id)},
    )
    assert response.status_code == 302
    assert Leaf.objects.filter(node=study["hyper"], label_id=unmapped.final_label_id).exists()


class FakeEmbedder:
    name = "all-MiniLM-L6-v2"

    def __init__(self):
        self.seen = []

    def encode(self, texts):
        self.seen += list(texts)
        return [[1.0, float(len(t) % 7), 0.5] for t in texts]


def test_label_vectors_are_computed_once_per_name(study):
    np = pytest.importorskip("numpy")
    project = study["project"]
    embedder = FakeEmbedder()
    n_labels = Label.objects.filter(project=project).count()
    assert services.label_vectors_compute(project=project, embedder=embedder) == n_labels
    assert services.label_vectors_compute(project=project, embedder=embedder) == 0
    label = Label.objects.filter(project=project).first()
    label.name = "renamed wording"
    label.save()
    assert services.label_vectors_compute(project=project, embedder=embedder) == 1
    row = LabelVector.objects.get(label=label)
    assert row.text == "renamed wording" and row.dimensions == 3
    assert np.frombuffer(bytes(row.vector), dtype=np.float32).tolist() == [1.0, float(len("renamed wording") % 7), 0.5]
    assert LabelMerge.objects.count() == 0


@pytest.mark.skipif(not semantic_available(), reason="optional extra not installed: requirements-semantic.txt")
def test_the_semantic_scorer_works_on_cached_label_vectors(study, settings, django_capture_on_commit_callbacks):
    settings.SUGGESTION_SCORER = "hybrid"
    project = study["project"]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.label_vectors_refresh(project=project)
    assert LabelVector.objects.filter(label__project=project).count() == Label.objects.filter(project=project).count()
    (result,) = selectors.leaf_suggestions(project=project, texts=["learning rate is too large"])
    assert result["leaves"][0]["name"] == "suboptimal learning rate"
    clusters = selectors.merge_suggestions(project=project)
    assert any("semantic" in e for c in clusters for e in c["evidence"])


def test_pages_queue_missing_label_vectors_with_the_semantic_scorer(
    study, team, client, monkeypatch, django_capture_on_commit_callbacks
):
    pytest.importorskip("numpy")
    project = study["project"]
    queued = []
    monkeypatch.setattr(selectors, "suggestion_scorer_name", lambda: "semantic")
    monkeypatch.setattr(services, "suggestion_scorer_name", lambda: "semantic")
    monkeypatch.setattr(services.tasks.label_vectors_task, "delay", lambda project_id: queued.append(project_id))
    monkeypatch.setattr(selectors, "merge_suggestions", lambda **kwargs: [])
    assert selectors.label_vectors_missing(project=project) == Label.objects.filter(project=project).count()
    client.force_login(team.moderator)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("taxonomy:merges", args=[project.slug])).status_code == 200
    assert queued == [project.id]
    services.label_vectors_compute(project=project, embedder=FakeEmbedder())
    assert selectors.label_vectors_missing(project=project) == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("taxonomy:merges", args=[project.slug]))
    assert queued == [project.id]
