"""Schemathesis over the whole API: every operation of the project's own OpenAPI schema, as each role
(lead, moderator, evaluator, a signed-in stranger, anonymous), on a project with one of everything
(tests/review/world.py). Every case: no 5xx, a status the operation documents, and a body that
matches the schema documented for that status.

Bounded and repeatable: `EXAMPLES` generated cases per operation and role (positive and negative
data), derandomized (the same cases every run), no deadline. Path parameters are mostly the real
objects' ids (else almost every case is a 404), sometimes generated ones. The world is built once for
the module; every case runs in a savepoint rolled back afterwards, so a DELETE, a token revocation or
a closed round never changes the data the next case sees. Nothing is excluded: with the savepoint
even `DELETE /api/token/` (revoking the very token in use) is safe to fuzz.

The case count and time of the run are printed with `-s` (see `test_the_run_covered_every_operation`)."""

import time
from collections import Counter
from contextlib import contextmanager

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from core import services as core_services
from core.models import Job, Membership
from tests.review.world import World, stranger

pytestmark = pytest.mark.django_db  # each test in a savepoint of the module's transaction

EXAMPLES = 6  # per operation and role: 125 operations × 5 roles × 6 ≈ 3,750 cases
ROLES = ("lead", "moderator", "evaluator", "stranger", "anonymous")
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
RAW = SchemaGenerator().get_schema(request=None, public=True)
SCHEMA = schemathesis.openapi.from_dict(RAW)
OPERATIONS = [
    (path, method.upper())
    for path, operations in RAW["paths"].items()
    for method in operations
    if method in ("get", "post", "put", "patch", "delete")
]
WSGI = get_wsgi_application()
RUN = Counter()


@contextmanager
def _connections_kept():
    """As Django's test client: a request's start and end must not close the connection holding the
    module's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One project with one of everything, its users' tokens and the real ids of each path parameter;
    built once in a transaction rolled back when the module ends."""
    with django_db_blocker.unblock(), _connections_kept(), transaction.atomic():
        w = World("fuzz")
        w.stranger = stranger()
        w.backup = Job.objects.create(project=w.project, kind=Job.Kind.EXPORT_PROJECT, created_by=w.lead)
        w.invitation, _ = core_services.invitation_create(project=w.project, by=w.lead, roles=["evaluator"])
        w.membership = Membership.objects.get(project=w.project, user=w.evaluators[2])
        w.artefact = w.rnd.items.order_by("id").first().artefact
        users = {**w.users(), "stranger": w.stranger}
        w.headers = {role: {"Authorization": f"Token {core_services.token_issue(user=users[role]).key}"}
                     for role in ROLES if role != "anonymous"}  # fmt: skip
        w.headers["anonymous"] = {}
        w.started = time.monotonic()
        yield w
        transaction.set_rollback(True)


def real_ids(w, path: str) -> dict:
    """The real object each path parameter of `path` names (its resource is the segment before it)."""
    by_resource = {
        "artefacts": w.artefact.id,
        "assignments": w.ids["assignment_id"],
        "conflicts": w.conflict.id,
        "invitations": w.invitation.id,
        "labels": w.label.id,
        "members": w.membership.id,
        "comparisons": w.ids["comparison_id"],
        "leaves": w.leaf.id,
        "nodes": w.node.id,
        "vocabulary": w.ids["term_id"],
        "rounds": w.rnd.number,
        "interviews": w.interview.number,
        "surveys": w.survey.token,
        "responses": w.response.token,
        "backup": w.backup.id,
    }
    values = {}
    segments = path.strip("/").split("/")
    for i, segment in enumerate(segments):
        if segment.startswith("{"):
            name = segment[1:-1]
            resource = segments[i - 1] if i else ""
            if name in ("id", "number", "token") or (name == "job_id" and resource == "backup"):
                value = by_resource.get(resource)
            elif name == "survey_id":
                value = w.survey.id
            else:
                value = w.ids.get(name)
            if value is not None:
                values[name] = value
    return values


@contextmanager
def _rolled_back():
    """The case's writes are undone afterwards (and the rate limits and lockouts it counted)."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
    cache.clear()


def _cases(operation):
    modes = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        modes.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return st.one_of(modes)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_server_error_and_answers_as_documented(world, path, method, role):
    operation = SCHEMA[path][method]
    ids = real_ids(world, path)
    headers = world.headers[role]

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_cases(operation), data=st.data())
    def run(case, data):
        for name, value in ids.items():
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = data.draw(st.sampled_from([value, value, case.path_parameters[name]]))
        with _connections_kept(), _rolled_back():
            response = case.call(app=WSGI, base_url="http://testserver", headers=headers)
        RUN["cases"] += 1
        RUN[f"status {response.status_code // 100}xx"] += 1
        case.validate_response(response, checks=CHECKS)

    run()
    RUN["operations"] += 1


def test_the_run_covered_every_operation(world):
    """Last in the module: every operation ran as every role (when the module ran whole)."""
    if RUN["operations"] < len(OPERATIONS) * len(ROLES):
        pytest.skip("part of the module ran")
    print(f"\nschemathesis: {dict(RUN)} in {time.monotonic() - world.started:.0f} s")
    assert RUN["cases"] >= len(OPERATIONS) * len(ROLES)
    assert RUN["status 2xx"] > 0
