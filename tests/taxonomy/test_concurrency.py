"""Simultaneous edits of one taxonomy are serialised: two crossing moves never make a cycle."""

import pytest
from django.db import connection

from core.errors import DomainError
from taxonomy import services
from taxonomy.models import Node
from tests.factories import ProjectFactory, member
from tests.helpers import in_threads

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_crossing_moves_never_make_a_cycle():
    project = ProjectFactory()
    lead = member(project, lead=True)
    moderator = member(project, moderator=True)
    for attempt in range(5):
        a = services.node_create(project=project, user=lead, name=f"A{attempt}")
        b = services.node_create(project=project, user=lead, name=f"B{attempt}")
        results = in_threads(
            lambda a=a, b=b: services.node_move(node=a, user=lead, parent=b.id),
            lambda a=a, b=b: services.node_move(node=b, user=moderator, parent=a.id),
            together=True,
            expected=DomainError,
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
    results = in_threads(
        lambda: services.node_create(project=project, user=lead, name="Training"),
        lambda: services.node_create(project=project, user=moderator, name="training"),
        together=True,
        expected=DomainError,
    )
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert Node.objects.filter(project=project, name__iexact="training").count() == 1
