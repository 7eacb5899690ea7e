"""The REST API end to end: token auth, the labelling loop, blindness, bad input, labels, schema."""

import json

import pytest
from django.test import TestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from collection.models import Artefact
from labelling import services
from labelling.models import Annotation, Assignment, Label, Round, RoundItem
from tests.factories import ArtefactFactory, ProjectFactory, UserFactory, member, team_round


class Client(APIClient):
    """Runs on_commit callbacks (the escalation task, eager in tests) as a committed request would."""

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


def client_for(user=None):
    client = Client()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(team):
    """api(user) -> an APIClient authenticated with the user's token; url(path) -> project URL."""

    class Api:
        def __call__(self, user=None):
            return client_for(user)

        @staticmethod
        def url(path=""):
            return f"/api/projects/{team.project.slug}/{path}"

    return Api()


def written():
    return (Round.objects.count(), Assignment.objects.count(), Annotation.objects.count(), Label.objects.count())


# --- projects and artefacts ---------------------------------------------------------------


def test_projects_lists_only_mine_with_my_roles(team, api):
    ProjectFactory(slug="secret")
    both = member(team.project, lead=True, evaluator=True, username="both")
    response = api(both).get("/api/projects/")
    assert response.status_code == 200
    assert [(p["slug"], p["roles"]) for p in response.json()["results"]] == [(team.project.slug, ["lead", "evaluator"])]
    assert api(both).get("/api/projects/secret/").status_code == 404
    assert api(both).get("/api/projects/secret/artefacts/").status_code == 404
    assert api().get("/api/projects/").status_code == 401


def test_artefacts_filter_search_and_paginate(team, api):
    ArtefactFactory.create_batch(3, project=team.project, kind=Artefact.Kind.GH_ISSUE, framework="pytorch")
    ArtefactFactory(project=team.project, title="Loss is NaN with Adam", framework="keras")
    ArtefactFactory(project=team.project, body="<p>cuda out of memory</p>", framework="keras")
    ArtefactFactory(project=ProjectFactory(), title="Loss is NaN elsewhere")
    rnd = team_round(team, 2)
    client = api(team.evaluators[0])

    everything = client.get(api.url("artefacts/"), {"page_size": 3}).json()
    assert everything["count"] == 7 and len(everything["results"]) == 3 and everything["next"]
    assert client.get(api.url("artefacts/"), {"kind": "gh_issue"}).json()["count"] == 3
    assert client.get(api.url("artefacts/"), {"framework": "pytorch"}).json()["count"] == 3
    assert [a["title"] for a in client.get(api.url("artefacts/"), {"search": "adam"}).json()["results"]] == [
        "Loss is NaN with Adam"
    ]
    assert client.get(api.url("artefacts/"), {"search": "CUDA"}).json()["count"] == 1
    assert client.get(api.url("artefacts/"), {"status": "pool"}).json()["count"] == 5
    in_round = client.get(api.url("artefacts/"), {"round": rnd.number}).json()
    assert in_round["count"] == 2
    assert in_round["results"][0]["rounds"] == [
        {
            "item_id": in_round["results"][0]["rounds"][0]["item_id"],
            "round": 1,
            "status": "labelling",
            "decided": False,
            "final_label": None,
            "final_verdict": None,
        }
    ]
    assert client.get(api.url("artefacts/"), {"status": "labelling"}).json()["count"] == 2
    assert client.get(api.url("artefacts/"), {"status": "decided"}).json()["count"] == 0
    bad = client.get(api.url("artefacts/"), {"kind": "tweet", "round": "x"})
    assert bad.status_code == 400 and set(bad.json()) == {"kind", "round"}


def test_artefact_body_is_returned_as_stored_and_sanitised_for_rendering(team, api):
    artefact = ArtefactFactory(project=team.project, body='<p onclick="x()">hi</p><script>alert(1)</script>')
    data = api(team.moderator).get(api.url(f"artefacts/{artefact.id}/")).json()
    assert data["body"] == artefact.body
    assert "<script>" not in data["body_html"] and "onclick" not in data["body_html"] and "hi" in data["body_html"]


# --- rounds ---------------------------------------------------------------------------------


def test_lead_creates_rounds_by_sample_and_by_selection(team, api):
    keras = ArtefactFactory.create_batch(6, project=team.project, framework="keras")
    ArtefactFactory.create_batch(4, project=team.project, framework="pytorch", kind=Artefact.Kind.GH_PULL)
    client = api(team.lead)
    ids = [e.id for e in team.evaluators]
    sampled = client.post(
        api.url("rounds/"),
        {"sample_size": 4, "seed": 3, "frameworks": ["keras"], "evaluator_ids": ids, "name": "Pilot"},
        format="json",
    )
    assert sampled.status_code == 201, sampled.content
    body = sampled.json()
    assert (body["number"], body["name"], body["seed"], body["items_total"], body["assignments_total"]) == (
        1,
        "Pilot",
        3,
        4,
        8,
    )
    assert sorted(e["username"] for e in body["evaluators"]) == ["eva1", "eva2", "eva3"]
    chosen = set(RoundItem.objects.filter(round__number=1).values_list("artefact_id", flat=True))
    assert chosen <= {a.id for a in keras}
    left = [a.id for a in keras if a.id not in chosen]
    selected = client.post(api.url("rounds/"), {"artefact_ids": left, "evaluator_ids": ids[:2]}, format="json")
    assert selected.status_code == 201 and selected.json()["items_total"] == 2
    listed = client.get(api.url("rounds/")).json()["results"]
    assert [r["number"] for r in listed] == [2, 1]
    closed = client.post(api.url("rounds/2/close/"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


@pytest.mark.parametrize(
    "payload, field, code",
    [
        ({"sample_size": 99}, "sample_size", 400),  # a round larger than the pool
        ({"sample_size": 2, "kinds": ["tweet"]}, "kinds", 400),
        ({"sample_size": "many"}, "sample_size", 400),
        ({"artefact_ids": [10**9]}, "artefact_ids", 400),
        ({"artefact_ids": "1,2"}, "artefact_ids", 400),
        ({"sample_size": 2, "evaluator_ids": [10**9]}, "evaluator_ids", 400),
        ({"sample_size": 2, "number": 10**12}, "number", 400),
        ({}, "sample_size", 400),
    ],
)
def test_bad_round_requests_name_the_field_and_write_nothing(team, api, payload, field, code):
    ArtefactFactory.create_batch(5, project=team.project)
    payload = {"evaluator_ids": [e.id for e in team.evaluators], **payload}
    before = written()
    response = api(team.lead).post(api.url("rounds/"), payload, format="json")
    assert response.status_code == code and field in response.json(), response.content
    assert written() == before


def test_round_progress_counts_disagreements_and_conflicts_apart(team, api):
    rnd = team_round(team, 3)
    items = list(rnd.items.order_by("id"))
    answers = [("a", "a"), ("a", "b")]
    for item, labels in zip(items, answers, strict=False):
        for assignment, label in zip(item.assignments.order_by("order"), labels, strict=True):
            api(assignment.evaluator).post(api.url(f"assignments/{assignment.id}/annotation/"), {"label": label})
    progress = api(team.lead).get(api.url("rounds/1/progress/"))
    assert progress.status_code == 200
    p = progress.json()
    assert (p["items"], p["agreed"], p["disagreements"], p["conflicts"], p["labelling"]) == (3, 1, 1, 0, 2)
    assert p["compared"] == 2 and p["percent_agreement"] == 50.0
    by_name = {e["username"]: e for e in p["evaluators"]}
    assert by_name["eva3"]["total"] == 1 and by_name["eva3"]["done"] == 0 and by_name["eva3"]["extra"] == 1
    assert by_name["eva1"]["done"] == 2 and by_name["eva1"]["total"] == 3
    assert api(team.moderator).get(api.url("rounds/1/progress/")).status_code == 200
    assert api(team.lead).get(api.url("rounds/9/progress/")).status_code == 404


# --- the labelling loop ----------------------------------------------------------------------


def test_labelling_loop_disagreement_third_evaluator_conflict_and_resolution(team, api):
    rnd = team_round(team, 1)
    eva1, eva2, eva3 = team.evaluators
    item = rnd.items.get()

    first = api(eva1).get(api.url("assignments/next/"))
    assert first.status_code == 200 and first.json()["artefact"]["id"] == item.artefact_id
    submitted = api(eva1).post(
        api.url(f"assignments/{first.json()['id']}/annotation/"), {"label": "Missing softmax", "note": "n1"}
    )
    assert submitted.status_code == 201
    body = submitted.json()
    assert body["assignment"]["annotation"]["label"] == "Missing softmax" and body["next"] is None
    assert body["assignment"]["item"]["status"] == "labelling"
    assert api(eva1).get(api.url("assignments/next/")).status_code == 204
    assert api(eva3).get(api.url("assignments/next/")).status_code == 204

    second = api(eva2).get(api.url("assignments/next/")).json()
    assert second["annotation"] is None
    response = api(eva2).put(api.url(f"assignments/{second['id']}/annotation/"), {"label": "wrong loss"})
    assert response.status_code == 201

    third = api(eva3).get(api.url("assignments/next/"))
    assert third.status_code == 200 and third.json()["order"] == 3 and third.json()["is_extra"]
    api(eva3).post(api.url(f"assignments/{third.json()['id']}/annotation/"), {"verdict": "unclear", "note": "n3"})
    assert RoundItem.objects.get(pk=item.pk).status == RoundItem.Status.CONFLICT

    queue = api(team.moderator).get(api.url("conflicts/")).json()
    assert queue["count"] == 1
    conflict = queue["results"][0]
    assert conflict["id"] == item.id and conflict["conflict_reason"]
    side_by_side = [(a["evaluator"]["username"], a["label"], a["verdict"], a["note"]) for a in conflict["annotations"]]
    assert side_by_side == [
        ("eva1", "Missing softmax", None, "n1"),
        ("eva2", "wrong loss", None, ""),
        ("eva3", None, "unclear", "n3"),
    ]
    picked = conflict["annotations"][1]["annotation_id"]
    resolved = api(team.moderator).post(
        api.url(f"conflicts/{item.id}/resolve/"), {"annotation_id": picked, "note": "agreed in the meeting"}
    )
    assert resolved.status_code == 200, resolved.content
    r = resolved.json()
    assert (r["status"], r["final_label"], r["resolved_by"]["username"], r["resolution_note"]) == (
        "resolved",
        "wrong loss",
        "moderator",
        "agreed in the meeting",
    )
    assert api(team.moderator).get(api.url("conflicts/")).json()["count"] == 0
    assert api(team.moderator).get(api.url("conflicts/"), {"resolved": "true"}).json()["count"] == 1
    progress = api(team.lead).get(api.url("rounds/1/progress/")).json()
    assert (progress["resolved"], progress["conflicts"], progress["disagreements"], progress["decided"]) == (1, 1, 1, 1)


def test_submit_returns_the_next_assignment_and_edit_keeps_history(team, api):
    rnd = team_round(team, 3)
    eva1 = team.evaluators[0]
    client = api(eva1)
    mine = list(Assignment.objects.filter(evaluator=eva1, round=rnd).order_by("id"))
    response = client.post(api.url(f"assignments/{mine[0].id}/annotation/"), {"label": "a"})
    assert response.status_code == 201 and response.json()["next"]["id"] == mine[1].id
    edited = client.put(api.url(f"assignments/{mine[0].id}/annotation/"), {"verdict": "generic", "note": "x"})
    assert edited.status_code == 200
    annotation = edited.json()["assignment"]["annotation"]
    assert annotation["verdict"] == "generic" and annotation["label"] is None
    assert annotation["history"][0]["value"] == "a"
    assert client.get(api.url(f"assignments/{mine[0].id}/annotation/")).json()["verdict"] == "generic"
    assert client.get(api.url(f"assignments/{mine[1].id}/annotation/")).status_code == 404
    queue = client.get(api.url("assignments/")).json()["results"]
    assert [a["id"] for a in queue] == [mine[1].id, mine[2].id, mine[0].id]  # open first
    assert [a["id"] for a in client.get(api.url("assignments/"), {"state": "done"}).json()["results"]] == [mine[0].id]


def test_blind_an_evaluator_never_sees_another_undecided_label(team, api):
    """Everything eva2 can read before submitting (queue, next, assignment, artefacts, suggestions)
    holds no trace of eva1's label; after both submitted and disagreed, still none until decided."""
    rnd = team_round(team, 1)
    item = rnd.items.get()
    a1, a2 = item.assignments.order_by("order")
    secret = "zebra-secret-label"
    api(a1.evaluator).post(api.url(f"assignments/{a1.id}/annotation/"), {"label": secret, "note": "secret note"})
    client = api(a2.evaluator)

    def everything_visible():
        pages = [
            api.url("assignments/"),
            api.url("assignments/next/"),
            api.url(f"assignments/{a2.id}/"),
            api.url("artefacts/"),
            api.url(f"artefacts/{item.artefact_id}/"),
            api.url("labels/suggest/?q=zebra"),
            api.url("labels/suggest/"),
            api.url("rounds/"),
            api.url("rounds/1/"),
        ]
        texts = [client.get(p).content.decode() for p in pages]
        texts.append(client.get(api.url(f"assignments/{a1.id}/")).content.decode())  # refused
        return "\n".join(texts)

    visible = everything_visible()
    assert "zebra" not in visible and "secret note" not in visible
    assert client.get(api.url(f"assignments/{a1.id}/")).status_code == 403
    assert client.get(api.url(f"assignments/{a1.id}/annotation/")).status_code == 403
    assert client.get(api.url("labels/")).status_code == 403
    assert client.get(api.url("conflicts/")).status_code == 403

    response = client.post(api.url(f"assignments/{a2.id}/annotation/"), {"label": "elephant"})
    assert "zebra" not in response.content.decode()
    assert "zebra" not in everything_visible()  # disagreed, third evaluator pending: still undecided
    third = Assignment.objects.get(item=item, order=3)
    assert "zebra" not in api(third.evaluator).get(api.url("labels/suggest/")).content.decode()
    # Once decided (by majority), the decision is visible to everyone, with its count.
    api(third.evaluator).post(api.url(f"assignments/{third.id}/annotation/"), {"label": secret})
    suggestions = client.get(api.url("labels/suggest/"), {"q": "zeb"}).json()
    assert [(s["name"], s["decided_count"]) for s in suggestions] == [(secret, 1)]


def test_suggestions_come_from_catalogue_decisions_and_my_own_labels(team, api):
    rnd = team_round(team, 2)
    done, open_ = rnd.items.order_by("id")
    for a in done.assignments.all():
        api(a.evaluator).post(api.url(f"assignments/{a.id}/annotation/"), {"label": "Wrong loss function"})
    first = open_.assignments.get(order=1)
    api(first.evaluator).post(api.url(f"assignments/{first.id}/annotation/"), {"label": "Wrong optimiser"})
    assert api(team.lead).post(api.url("labels/"), {"name": "Wrong learning rate"}).status_code == 201
    second = open_.assignments.get(order=2)

    def names(user, q="wrong"):
        response = api(user).get(api.url("labels/suggest/"), {"q": q})
        assert response.status_code == 200
        return {s["name"]: s["count"] for s in response.json()}

    assert names(first.evaluator) == {"Wrong loss function": 2, "Wrong optimiser": 1, "Wrong learning rate": 0}
    assert names(second.evaluator) == {"Wrong loss function": 2, "Wrong learning rate": 0}
    assert names(second.evaluator, q="loss") == {"Wrong loss function": 2}
    assert names(team.moderator) == {"Wrong loss function": 1, "Wrong learning rate": 0}
    assert api(team.moderator).get(api.url("labels/suggest/"), {"limit": 0}).status_code == 400


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"label": ""}, "label"),
        ({}, "label"),
        ({"label": "x" * 201}, "label"),
        ({"verdict": "maybe"}, "verdict"),
        ({"label": "x", "verdict": "generic"}, "verdict"),
        ({"label": ["a", "b"]}, "label"),
        ({"label": "x", "note": "n" * 10_001}, "note"),
    ],
)
def test_bad_annotations_name_the_field_and_write_nothing(team, api, payload, field):
    rnd = team_round(team, 1)
    a1 = rnd.items.get().assignments.get(order=1)
    before = written()
    response = api(a1.evaluator).post(api.url(f"assignments/{a1.id}/annotation/"), payload, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert written() == before


def test_annotating_someone_elses_assignment_or_as_a_stranger(team, api):
    rnd = team_round(team, 1)
    a1, a2 = rnd.items.get().assignments.order_by("order")
    before = written()
    refused = api(a2.evaluator).post(api.url(f"assignments/{a1.id}/annotation/"), {"label": "x"})
    assert refused.status_code == 403 and "another evaluator" in json.dumps(refused.json())
    stranger = UserFactory()
    assert api(stranger).post(api.url(f"assignments/{a1.id}/annotation/"), {"label": "x"}).status_code == 404
    assert api().post(api.url(f"assignments/{a1.id}/annotation/"), {"label": "x"}).status_code == 401
    assert api(a1.evaluator).post(api.url("assignments/999999999/annotation/"), {"label": "x"}).status_code == 404
    # An evaluator's assignment of another project, through this project's URL, does not exist here.
    other = ProjectFactory()
    lead = member(other, lead=True)
    member(other, evaluator=True)
    member(other, evaluator=True)
    elsewhere = services.round_create(
        project=other,
        user=lead,
        evaluator_ids=list(other.memberships.filter(is_evaluator=True).values_list("user_id", flat=True)),
        artefact_ids=[ArtefactFactory(project=other).id],
    )
    theirs = elsewhere.items.get().assignments.get(order=1)
    from core.models import Membership

    Membership.objects.create(project=team.project, user=theirs.evaluator, is_evaluator=True)
    before = written()
    wrong_url = api(theirs.evaluator).post(api.url(f"assignments/{theirs.id}/annotation/"), {"label": "x"})
    assert wrong_url.status_code == 404
    assert written() == before


def test_resolving_what_is_not_a_conflict_is_409_and_bad_resolutions_400(team, api):
    rnd = team_round(team, 1)
    item = rnd.items.get()
    client = api(team.moderator)
    response = client.post(api.url(f"conflicts/{item.id}/resolve/"), {"label": "x"})
    assert response.status_code == 409 and "not a conflict" in response.json()["item"][0]
    assert client.post(api.url("conflicts/999999999/resolve/"), {"label": "x"}).status_code == 404
    RoundItem.objects.filter(pk=item.pk).update(status=RoundItem.Status.CONFLICT, is_conflict=True)
    for payload, field in [({}, "label"), ({"verdict": "nope"}, "verdict"), ({"annotation_id": "x"}, "annotation_id")]:
        bad = client.post(api.url(f"conflicts/{item.id}/resolve/"), payload)
        assert bad.status_code == 400 and field in bad.json()
    assert RoundItem.objects.get(pk=item.pk).status == RoundItem.Status.CONFLICT
    assert Label.objects.count() == 0


def test_malformed_json_is_a_400(team, api):
    rnd = team_round(team, 1)
    a1 = rnd.items.get().assignments.get(order=1)
    response = api(a1.evaluator).post(
        api.url(f"assignments/{a1.id}/annotation/"), data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    response = api(a1.evaluator).post(
        api.url(f"assignments/{a1.id}/annotation/"), data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    assert Annotation.objects.count() == 0


# --- label catalogue ------------------------------------------------------------------------


def test_lead_lists_renames_and_merges_labels(team, api):
    rnd = team_round(team, 2)
    for item, label in zip(rnd.items.order_by("id"), ["shape mismatch", "Wrong shape"], strict=True):
        for a in item.assignments.all():
            api(a.evaluator).post(api.url(f"assignments/{a.id}/annotation/"), {"label": label})
    client = api(team.lead)
    labels = client.get(api.url("labels/")).json()["results"]
    assert [(x["name"], x["annotation_count"], x["decided_count"]) for x in labels] == [
        ("shape mismatch", 2, 1),
        ("Wrong shape", 2, 1),
    ]
    source, target = labels[1]["id"], labels[0]["id"]
    renamed = client.patch(api.url(f"labels/{target}/"), {"name": "Tensor shape mismatch", "in_catalogue": True})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Tensor shape mismatch"
    assert renamed.json()["in_catalogue"]
    clash = client.patch(api.url(f"labels/{target}/"), {"name": "wrong shape"})
    assert clash.status_code == 400 and "merge" in clash.json()["name"][0]
    assert client.patch(api.url(f"labels/{target}/"), {"name": ""}).status_code == 400
    merged = client.post(api.url(f"labels/{source}/merge/"), {"target_id": target})
    assert merged.status_code == 200 and merged.json()["annotation_count"] == 4 and merged.json()["decided_count"] == 2
    assert client.get(api.url(f"labels/{source}/")).status_code == 404
    assert client.post(api.url(f"labels/{target}/merge/"), {"target_id": target}).status_code == 400
    created = client.post(api.url("labels/"), {"name": "Wrong optimiser", "description": "Adam vs SGD"})
    assert created.status_code == 201 and created.json()["in_catalogue"]
    assert client.post(api.url("labels/"), {}).status_code == 400
    # the codebook's examples, documented for a new label too, are stored (schemathesis found a 500)
    created = client.post(api.url("labels/"), {"name": "Wrong batch size", "examples": "batch of 1"})
    assert created.status_code == 201 and created.json()["examples"] == "batch of 1"


# --- OpenAPI --------------------------------------------------------------------------------


def test_openapi_schema_of_the_labelling_api_generates_without_warnings(db):
    """This API's part of the schema: no warning or error from drf-spectacular, and a valid OpenAPI 3 document."""
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/", include("concord.api_urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert dict(GENERATOR_STATS._warn_cache) == {} and dict(GENERATOR_STATS._error_cache) == {}
    validate_schema(schema)
    for route in [
        "/api/projects/{project_slug}/assignments/{id}/annotation/",
        "/api/projects/{project_slug}/assignments/next/",
        "/api/projects/{project_slug}/conflicts/{id}/resolve/",
        "/api/projects/{project_slug}/rounds/{number}/progress/",
        "/api/projects/{project_slug}/labels/suggest/",
    ]:
        assert route in schema["paths"]


def test_fast_serializers_match_their_declared_fields(team, api):
    """The hot-path serializers build their output by hand; their declared fields (the schema) must agree."""
    from labelling.api import serializers as s

    rnd = team_round(team, 1)
    a1 = rnd.items.get().assignments.get(order=1)
    api(a1.evaluator).post(api.url(f"assignments/{a1.id}/annotation/"), {"label": "x"})
    assignment = Assignment.objects.select_related("round", "item__artefact", "annotation__label").get(pk=a1.pk)
    for serializer in [
        s.AssignmentSerializer(assignment),
        s.AssignmentDoneSerializer(assignment),
        s.AnnotationSerializer(assignment.annotation),
        s.ArtefactBriefSerializer(assignment.item.artefact),
        s.AssignmentItemSerializer(assignment.item),
    ]:
        assert list(serializer.data) == list(serializer.fields), type(serializer).__name__
    nested = s.AssignmentSerializer(assignment).data
    assert list(nested["item"]) == list(s.AssignmentItemSerializer().fields)
    assert list(nested["artefact"]) == list(s.ArtefactBriefSerializer().fields)
    assert list(nested["annotation"]) == list(s.AnnotationSerializer().fields)


def test_schema_and_docs_are_served(client, team):
    client.force_login(team.lead)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_next_follows_the_queue_order_and_skips_decided_items(team, api):
    """Round by round, then by id; an open assignment on an item decided meanwhile (e.g. after an
    import) is skipped and the next round's work comes next."""
    first = team_round(team, 2)
    second = team_round(team, 2)
    eva1 = team.evaluators[0]
    mine = lambda rnd: list(Assignment.objects.filter(round=rnd, evaluator=eva1).order_by("id"))  # noqa: E731
    client = api(eva1)
    assert client.get(api.url("assignments/next/")).json()["id"] == mine(first)[0].id
    RoundItem.objects.filter(round=first).update(status=RoundItem.Status.CONFLICT, is_conflict=True)
    assert client.get(api.url("assignments/next/")).json()["id"] == mine(second)[0].id
    services.round_close(round=second, user=team.lead)
    assert client.get(api.url("assignments/next/")).status_code == 204
