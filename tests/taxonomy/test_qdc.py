"""REFI-QDA codebook: `export_taxonomy --format qdc` and the taxonomy import of a .qdc (and of a .qdpx's codebook)."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from lxml import etree

from collection.formats.refiqda import NS_CODEBOOK, read_codebook
from core.errors import InvalidInput
from core.models import Job
from reports.exchange.qdpx import write_qdpx
from taxonomy import exports, selectors, services
from tests.factories import LabelFactory, LeafFactory, NodeFactory, ProjectFactory, member

pytestmark = pytest.mark.django_db


def _tree(project):
    training = NodeFactory(project=project, name="Training", description="Faults in training")
    loss = NodeFactory(project=project, name="Loss function", parent=training)
    LeafFactory(node=loss, label=LabelFactory(project=project, name="wrong loss function"))
    NodeFactory(project=project, name="GPU Usage")
    return training


def _names(entries, depth=0):
    out = []
    for entry in entries:
        out.append((depth, entry["kind"], entry["name"], entry.get("description") or ""))
        out.extend(_names(entry["children"], depth + 1))
    return out


def test_export_taxonomy_qdc_command_writes_the_codebook(tmp_path):
    project = ProjectFactory(slug="qdc")
    _tree(project)
    out = tmp_path / "t.qdc"
    call_command("export_taxonomy", "qdc", "--format", "qdc", "--output", str(out))
    root = etree.fromstring(out.read_bytes())
    assert etree.QName(root).namespace == NS_CODEBOOK and etree.QName(root).localname == "CodeBook"
    codes = read_codebook(out.read_bytes())
    assert [c.name for c in codes] == ["GPU Usage", "Training"]
    training = next(c for c in codes if c.name == "Training")
    assert training.description == "Faults in training"
    assert [c.name for c in training.children] == ["Loss function"]
    assert [c.name for c in training.children[0].children] == ["wrong loss function"]
    # the same taxonomy gives the same file
    again = tmp_path / "again.qdc"
    call_command("export_taxonomy", "qdc", "--format", "qdc", "--output", str(again))
    assert again.read_bytes() == out.read_bytes()


def test_qdc_import_rebuilds_the_same_tree_in_another_project():
    source = ProjectFactory(slug="qdc-src")
    _tree(source)
    qdc = exports.export(source, "qdc").encode()
    target = ProjectFactory(slug="qdc-dst")
    lead = member(target, lead=True)
    report = services.taxonomy_import_file(project=target, user=lead, data=qdc, filename="codes.qdc")
    assert report["format"] == "qdc" and report["nodes_created"] == 3 and report["leaves_created"] == 1
    src = json.loads(exports.export(source, "json"))["nodes"]
    dst = json.loads(exports.export(target, "json"))["nodes"]
    assert _names(dst) == _names(src)
    again = services.taxonomy_import_file(project=target, user=lead, data=qdc, filename="codes.qdc")
    assert again["nodes_created"] == 0 and again["leaves_created"] == 0


def test_qdc_import_from_a_qdpx_and_errors():
    source = ProjectFactory(slug="qdc-src2")
    _tree(source)
    target = ProjectFactory(slug="qdc-dst2")
    lead = member(target, lead=True)
    buf = io.BytesIO()
    codes = exports.taxonomy_codes(selectors.tree_build(source))
    write_qdpx(buf, project=source.slug, name="x", users=[], codes=codes, sources=[])
    report = services.taxonomy_import_file(project=target, user=lead, data=buf.getvalue(), filename="p.qdpx")
    assert report["nodes_created"] == 3
    with pytest.raises(InvalidInput, match="Not a REFI-QDA codebook"):
        services.taxonomy_import_file(project=target, user=lead, data=b"<outline/>", filename="x.qdc")


def test_qdc_from_the_taxonomy_pages(client, django_capture_on_commit_callbacks):
    source = ProjectFactory(slug="qdc-page")
    lead = member(source, lead=True)
    _tree(source)
    client.force_login(lead)
    assert "/p/qdc-page/taxonomy/export.qdc" in client.get("/p/qdc-page/taxonomy/").content.decode()
    qdc = client.get("/p/qdc-page/taxonomy/export.qdc")
    assert qdc.status_code == 200 and qdc["Content-Type"].startswith("application/xml")
    target = ProjectFactory(slug="qdc-page2")
    client.force_login(member(target, lead=True))
    upload = SimpleUploadedFile("codes.qdc", qdc.content, content_type="application/xml")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/qdc-page2/taxonomy/import/", {"file": upload})
    job = Job.objects.get(project=target, kind=Job.Kind.IMPORT_TAXONOMY)
    assert response.status_code == 302 and response["Location"] == f"/p/qdc-page2/jobs/{job.id}/"
    assert job.status == Job.Status.DONE and job.report["format"] == "qdc"
    assert "codes.qdc read as a REFI-QDA codebook" in client.get(response["Location"]).content.decode()
    assert _names(json.loads(exports.export(target, "json"))["nodes"]) == _names(
        json.loads(exports.export(source, "json"))["nodes"]
    )
