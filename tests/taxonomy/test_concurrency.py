"""Simultaneous edits of one taxonomy are serialised: two crossing moves never make a cycle."""

import threading

import pytest
from django.db import connection, connections

from labelling.errors import DomainError
from taxonomy import services
from taxonomy.models import Node
from tests.factories import ProjectFactory, member

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"
)


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except DomainError as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_crossing_moves_never_make_a_cycle():
    project = ProjectFactory()
    lead = member(project, lead=True)
    moderator = member(project, moderator=True)
    for attempt in range(5):
        a = services.node_create(project=project, user=lead, name=f"A{attempt}")
        b = services.node_create(project=project, user=lead, name=f"B{attempt}")
        results = run_together(
            lambda a=a, b=b: services.node_move(node=a, user=lead, parent=b.id),
            lambda a=a, b=b: services.node_move(node=b, user=moderator, parent=a.id),
        )
        errors = [r for r in results if isinstance(r, DomainError)]
        assert len(errors) == 1 and errors[0].field == "parent"
        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.parent_id == b.id) != (b.parent_id == a.id)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_same_name_creates_one():
    project = ProjectFactory()
    lead = member(project, lead=True)
    moderator = member(project, moderator=True)
    results = run_together(
        lambda: services.node_create(project=project, user=lead, name="Training"),
        lambda: services.node_create(project=project, user=moderator, name="training"),
    )
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert Node.objects.filter(project=project, name__iexact="training").count() == 1
