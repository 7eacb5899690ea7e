"""The OpenAPI schema matches the answers: every GET of a project's collection, called as the lead on a
project with data, answers a status its operation documents and a body its schema validates
(paginated lists as {count, results}, arrays as arrays); error answers are documented."""

import copy

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from labelling import services
from tests.factories import LeafFactory, NodeFactory, team_round


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def nullable_to_jsonschema(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema's null type (recursively)."""
    if isinstance(node, list):
        return [nullable_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: nullable_to_jsonschema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validator_for(schema, body_schema):
    root = {
        "components": nullable_to_jsonschema(copy.deepcopy(schema["components"])),
        **nullable_to_jsonschema(body_schema),
    }
    return jsonschema.Draft202012Validator(root)


def collection_gets(schema):
    for path, operations in schema["paths"].items():
        if "get" in operations and path.startswith("/api/projects/{project_slug}/") and path.count("{") == 1:
            yield path, operations["get"]


def test_error_answers_are_documented(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "400" in operation["responses"] and "404" in operation["responses"], (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "409" in operation["responses"], (method, path)
    token = schema["paths"]["/api/token/"]["post"]["responses"]
    assert {"201", "400", "429"} <= set(token)


def test_hand_paginated_lists_are_documented_as_pages(schema):
    for path in (
        "/api/projects/{project_slug}/interviews/",
        "/api/projects/{project_slug}/interviews/final-tags/",
        "/api/projects/{project_slug}/taxonomy/changes/",
    ):
        body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        ref = body["$ref"].rsplit("/", 1)[-1]
        assert set(schema["components"]["schemas"][ref]["properties"]) >= {"count", "results"}, path


def test_a_conflicts_discussion_is_documented_as_the_array_it_answers(schema):
    body = schema["paths"]["/api/projects/{project_slug}/conflicts/{item_id}/discussion/"]["get"]["responses"]["200"]
    assert body["content"]["application/json"]["schema"]["type"] == "array"


@pytest.mark.django_db
def test_every_project_collection_answers_what_its_schema_says(schema, team, django_capture_on_commit_callbacks):
    rnd = team_round(team, n=2)
    for assignment in rnd.assignments.filter(item=rnd.items.first()):
        with django_capture_on_commit_callbacks(execute=True):
            services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label="wrong loss")
    LeafFactory(node=NodeFactory(project=team.project, name="Model"), label__name="wrong shape")
    client = APIClient()
    client.force_authenticate(team.lead)
    checked = 0
    problems = []
    for path, operation in collection_gets(schema):
        response = client.get(path.replace("{project_slug}", team.project.slug))
        documented = operation["responses"]
        if str(response.status_code) not in documented:
            problems.append(f"GET {path}: {response.status_code} is not documented")
            continue
        content = documented[str(response.status_code)].get("content", {})
        if response.status_code != 200 or "application/json" not in content:
            continue
        errors = list(validator_for(schema, content["application/json"]["schema"]).iter_errors(response.json()))
        problems += [f"GET {path}: {e.json_path}: {e.message[:200]}" for e in errors[:3]]
        checked += 1
    assert checked >= 10
    assert problems == [], "\n".join(problems)
