"""Whole-project backup and restore over every table (reports.backup.engine)."""

import io
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.db import models

from reports.backup.archive import MANIFEST, ArchiveError
from reports.backup.engine import RestoreError, plan_tables, project_export, project_restore
from taxonomy.models import TaxonomyChange
from tests.factories import (
    AnnotationFactory,
    ArtefactFactory,
    AssignmentFactory,
    LabelFactory,
    LeafFactory,
    NodeFactory,
    ProjectFactory,
    RoundFactory,
    RoundItemFactory,
    member,
)

pytestmark = pytest.mark.django_db


def _project():
    project = ProjectFactory(slug="bk")
    lead = member(project, lead=True, username="bk-lead")
    eva = member(project, evaluator=True, username="bk-eva")
    rnd = RoundFactory(project=project)
    label = LabelFactory(project=project, name="wrong loss")
    for i in range(3):
        artefact = ArtefactFactory(project=project, url=f"https://github.com/a/b/issues/{i}")
        item = RoundItemFactory(round=rnd, artefact=artefact)
        assignment = AssignmentFactory(item=item, evaluator=eva)
        AnnotationFactory(assignment=assignment, label=label, note=f"note {i}")
    top = NodeFactory(project=project, name="Training")
    child = NodeFactory(project=project, name="Loss", parent=top)
    LeafFactory(node=child, label=label)
    TaxonomyChange.objects.create(
        project=project,
        action=TaxonomyChange.Action.NODE_CREATE,
        summary="Created Loss",
        snapshot={"created_nodes": [child.id]},
    )
    return project, lead


def _snapshot(project) -> dict:
    """Every owned table's rows with ids and foreign keys replaced by their natural order."""
    out = {}
    for plan in plan_tables(type(project)):
        qs = plan.model._base_manager.filter(**{plan.path: project.pk}).order_by("pk")
        rows = []
        for obj in qs:
            row = {}
            for f in plan.fields:
                if f.primary_key:
                    continue
                value = getattr(obj, f.attname)
                if isinstance(f, models.ForeignKey) and value is not None:
                    target = getattr(obj, f.name)
                    value = getattr(target, "username", None) or str(target)
                if f.name == "slug":
                    continue
                row[f.name] = value
            rows.append(row)
        out[plan.label] = rows
    return out


def _wipe(project) -> None:
    """The project gone from every table, as in an empty database (children first)."""
    plans = plan_tables(type(project))
    querysets = [
        (p, list(p.model._base_manager.filter(**{p.path: project.pk}).values_list("pk", flat=True))) for p in plans
    ]
    for plan, pks in reversed(querysets):
        for attname in plan.deferred:
            plan.model._base_manager.filter(pk__in=pks).update(**{attname: None})
        plan.model._base_manager.filter(pk__in=pks)._raw_delete(plan.model._base_manager.db)


def _export(project) -> bytes:
    buf = io.BytesIO()
    project_export(project=project, target=buf, concord_version="test", created_at="2026-01-01T00:00:00+00:00")
    return buf.getvalue()


def test_every_project_table_is_planned_in_dependency_order():
    labels = [p.label for p in plan_tables()]
    project_label = labels[0]
    assert project_label.endswith(".project")
    for name in ("membership", "artefact", "round", "roundimport", "annotation", "node", "leaf", "job"):
        assert any(label.endswith(f".{name}") for label in labels), name
    position = {label: i for i, label in enumerate(labels)}
    for plan in plan_tables():
        for attname, target in plan.fks.items():
            if target in position and attname not in plan.deferred:
                assert position[target] < position[plan.label], (plan.label, target)


def test_round_trip_into_another_slug_keeps_every_row_and_users():
    project, _ = _project()
    before = _snapshot(project)
    data = _export(project)
    report = project_restore(source=io.BytesIO(data), slug="bk-copy")
    assert not report["ids_kept"] and report["users_created"] == [] and report["users_matched"] == 2
    copy = type(project).objects.get(slug="bk-copy")
    assert copy.pk != project.pk
    # an undo snapshot names the original's rows: the copy's change is closed to undo, the original's is not
    assert report["undo_closed"] == 1
    assert TaxonomyChange.objects.get(project=copy).undone_at is not None
    assert TaxonomyChange.objects.get(project=project).undone_at is None
    assert _snapshot(copy) == {k: v for k, v in before.items() if k != "taxonomy.taxonomychange"} | {
        "taxonomy.taxonomychange": [
            r | {"undone_at": _snapshot(copy)["taxonomy.taxonomychange"][0]["undone_at"]}
            for r in before["taxonomy.taxonomychange"]
        ]
    }


def test_restore_into_an_emptied_database_keeps_ids_and_exports_the_same_bytes():
    project, _ = _project()
    before = _snapshot(project)
    first = _export(project)
    user_model = get_user_model()
    _wipe(project)
    user_model.objects.filter(username__in=["bk-lead", "bk-eva"]).delete()
    report = project_restore(source=io.BytesIO(first))
    assert report["ids_kept"] and sorted(report["users_created"]) == ["bk-eva", "bk-lead"]
    assert not user_model.objects.get(username="bk-lead").is_active
    restored = type(project).objects.get(slug="bk")
    assert _snapshot(restored) == before | {}
    second = _export(restored)
    a, b = zipfile.ZipFile(io.BytesIO(first)), zipfile.ZipFile(io.BytesIO(second))
    for name in a.namelist():
        if name not in (MANIFEST, "tables/auth.user.jsonl"):  # users created here are inactive
            assert a.read(name) == b.read(name), name


def test_a_taken_slug_or_missing_user_is_refused_and_nothing_is_written():
    project, _ = _project()
    data = _export(project)
    count = type(project).objects.count()
    with pytest.raises(RestoreError, match="--slug"):
        project_restore(source=io.BytesIO(data))
    get_user_model().objects.filter(username="bk-eva").update(username="renamed")
    with pytest.raises(RestoreError, match="bk-eva"):
        project_restore(source=io.BytesIO(data), slug="bk-2", map_users="existing")
    assert type(project).objects.count() == count
    assert not get_user_model().objects.filter(username="bk-eva").exists()


def test_a_tampered_archive_writes_nothing():
    project, _ = _project()
    data = _export(project)
    source = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in source.namelist():
            content = source.read(name)
            if name.endswith("annotation.jsonl"):
                content = content.replace(b"note 1", b"note 7")
            out.writestr(name, content)
    count = type(project).objects.count()
    with pytest.raises(ArchiveError, match="SHA-256"):
        project_restore(source=io.BytesIO(buf.getvalue()), slug="bk-3")
    assert type(project).objects.count() == count
