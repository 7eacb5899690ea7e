"""load_demo: idempotent, prints working credentials, leaves data for every page (make run depends on it)."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from collection.models import Artefact
from core.models import Membership, Project
from labelling.models import Round
from reports.table1 import table1
from taxonomy.models import Node

pytestmark = pytest.mark.django_db


def run(capsys):
    call_command("load_demo")
    return capsys.readouterr()


def test_load_demo_twice(replication_dir, capsys):
    out, _ = run(capsys)
    project = Project.objects.get(slug="demo")
    User = get_user_model()
    for line in out.splitlines()[1:]:
        username, _, password = line.split()[:3]
        assert User.objects.get(username=username).check_password(password)
    roles = {m.user.username: m for m in Membership.objects.filter(project=project, is_active=True)}
    assert roles["demo-lead"].is_lead and roles["demo-moderator"].is_moderator
    assert all(roles[f"demo-eva{i}"].is_evaluator for i in (1, 2, 3))
    assert "Humbatova" in project.description  # the data's licence asks for the citation

    open_round = Round.objects.get(project=project, number=1)
    assert open_round.status == Round.Status.OPEN and open_round.source == Round.Source.CONCORD
    assert open_round.items.count() == 29
    assert sorted(open_round.evaluators.values_list("username", flat=True)) == ["demo-eva1", "demo-eva2", "demo-eva3"]
    imported = Round.objects.get(project=project, number=2)
    assert imported.source == Round.Source.IMPORT
    assert Artefact.objects.filter(project=project).count() == 139
    assert Node.objects.filter(project=project, code="4.2.1", name="Wrong Shape of Input Data").exists()
    row2 = next(r for r in table1(project)["rows"] if r["round"] == "2")
    assert (row2["analysed"], row2["conflicts"], row2["relevant"]) == (110, 11, 16)

    counts = (Artefact.objects.count(), Round.objects.count(), Membership.objects.count(), Node.objects.count())
    out_again, _ = run(capsys)
    assert out_again == out
    assert (Artefact.objects.count(), Round.objects.count(), Membership.objects.count(), Node.objects.count()) == counts


def test_load_demo_without_the_shared_fixtures(settings, tmp_path, capsys):
    settings.SHARED_FIXTURES_DIR = tmp_path
    out, err = run(capsys)
    assert "demo-lead" in out and "not found" in err
    assert Project.objects.filter(slug="demo").exists() and not Artefact.objects.exists()
