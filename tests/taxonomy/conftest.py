"""Builders for taxonomy tests: relevant artefacts decided with a label, in a round."""

import pytest

from collection.models import Artefact
from labelling.models import Label, RoundItem
from tests.factories import ArtefactFactory, LabelFactory, RoundFactory, RoundItemFactory


def relevant(project, label, rnd, *, leaf=None, kind=Artefact.Kind.SO_QUESTION, artefact=None):
    """A decided, relevant round item of `rnd` carrying `label` (and pointing at `leaf` if given)."""
    artefact = artefact or ArtefactFactory(project=project, kind=kind)
    return RoundItemFactory(
        round=rnd,
        artefact=artefact,
        status=RoundItem.Status.AGREED,
        final_label=label,
        taxonomy_label=label,
        leaf=leaf,
    )


def label(project, name):
    return Label.objects.filter(project=project, name=name).first() or LabelFactory(project=project, name=name)


@pytest.fixture
def rounds(team):
    """Three rounds of the team's project; the last is open, the others closed."""
    return [
        RoundFactory(project=team.project, number=1, status="closed"),
        RoundFactory(project=team.project, number=2, status="closed"),
        RoundFactory(project=team.project, number=3, status="open"),
    ]
