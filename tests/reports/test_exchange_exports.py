"""export_qdpx, export_exchange (Label Studio JSON, doccano JSONL) on a project with decided items and interviews."""

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from lxml import etree

from collection.formats.detect import read_exchange
from collection.formats.refiqda import NS_PROJECT, read_codebook
from interviews.models import FinalTag, Interview, Piece
from labelling.models import RoundItem
from taxonomy import exports
from tests.factories import (
    ArtefactFactory,
    LabelFactory,
    LeafFactory,
    NodeFactory,
    ProjectFactory,
    RoundFactory,
    RoundItemFactory,
    member,
)
from tests.reports.test_exchange_writers import _validate

pytestmark = pytest.mark.django_db
P = f"{{{NS_PROJECT}}}"


@pytest.fixture
def project():
    project = ProjectFactory(slug="exp", name="Export me")
    moderator = member(project, moderator=True, username="exp-mod")
    member(project, evaluator=True, username="exp-eva")
    rnd = RoundFactory(project=project, number=1)
    loss = LabelFactory(project=project, name="wrong loss function")
    other = LabelFactory(project=project, name="outside label")
    node = NodeFactory(project=project, name="Training")
    leaf = LeafFactory(node=node, label=loss)
    a1 = ArtefactFactory(
        project=project, url="https://stackoverflow.com/questions/1", title="Loss nan", body="<p>b</p>"
    )
    a2 = ArtefactFactory(project=project, url="https://github.com/a/b/issues/2", title="Shapes")
    a3 = ArtefactFactory(project=project, url="https://github.com/a/b/issues/3", title="Open")
    RoundItemFactory(round=rnd, artefact=a1, status=RoundItem.Status.RESOLVED, final_label=loss, resolved_by=moderator)
    RoundItemFactory(round=rnd, artefact=a2, status=RoundItem.Status.AGREED, final_label=other)
    RoundItemFactory(round=rnd, artefact=a3)
    text = "Q: what broke?\nA: the loss went nan.\n"
    interview = Interview.objects.create(project=project, number=1, title="P1", text=text)
    start = text.index("the loss")
    piece = Piece.objects.create(interview=interview, position=1, kind="both", start=start, end=len(text) - 1)
    FinalTag.objects.create(
        piece=piece,
        interview=interview,
        text="wrong loss function",
        status=FinalTag.Status.ACCEPTED,
        leaf=leaf,
        reviewed_by=moderator,
    )
    return project


def test_export_qdpx_command(project, tmp_path):
    out = tmp_path / "p.qdpx"
    call_command("export_qdpx", "exp", "--output", str(out))
    archive = zipfile.ZipFile(out)
    qde = archive.read("project.qde")
    root = etree.fromstring(qde)
    assert etree.QName(root).namespace == NS_PROJECT and root.get("name") == "Export me"
    assert [u.get("id") for u in root.iter(f"{P}User")] == ["exp-eva", "exp-mod"]
    # the codebook: the taxonomy's nodes and leaves, then the labels outside it
    taxonomy = read_codebook(exports.export(project, "qdc").encode())
    codes = read_codebook(qde)
    assert [c.name for c in codes[: len(taxonomy)]] == [c.name for c in taxonomy]
    assert [c.guid for c in codes[0].walk()] == [c.guid for c in taxonomy[0].walk()]
    assert codes[-1].name == "Labels outside the taxonomy" and [c.name for c in codes[-1].children] == ["outside label"]
    guid = {c.name: c.guid for top in codes for c in top.walk()}
    sources = root.findall(f"{P}Sources/{P}TextSource")
    assert [s.get("name") for s in sources] == [
        "Interview 1: P1",
        "https://stackoverflow.com/questions/1",
        "https://github.com/a/b/issues/2",
        "https://github.com/a/b/issues/3",
    ]
    interview = sources[0]
    text = archive.read(f"sources/{interview.get('guid')}.txt").decode()
    (sel,) = interview.findall(f"{P}PlainTextSelection")
    assert text[int(sel.get("startPosition")) : int(sel.get("endPosition"))] == "the loss went nan."
    assert sel.find(f"{P}Coding/{P}CodeRef").get("targetGUID") == guid["wrong loss function"]
    art = sources[1]
    (sel,) = art.findall(f"{P}PlainTextSelection")
    art_text = archive.read(f"sources/{art.get('guid')}.txt").decode()
    assert art_text == "Loss nan\n\nb" and int(sel.get("endPosition")) == len(art_text)
    creator = {u.get("guid"): u.get("id") for u in root.iter(f"{P}User")}
    assert creator[sel.get("creatingUser")] == "exp-mod"
    assert sources[2].find(f"{P}PlainTextSelection/{P}Coding/{P}CodeRef").get("targetGUID") == guid["outside label"]
    assert sources[3].find(f"{P}PlainTextSelection") is None
    _validate(qde, "Project-mrt2019.xsd")
    again = tmp_path / "again.qdpx"
    call_command("export_qdpx", "exp", "--output", str(again))
    assert again.read_bytes() == out.read_bytes()


def test_export_exchange_label_studio_and_doccano(project, tmp_path):
    ls = tmp_path / "ls.json"
    config = tmp_path / "config.xml"
    call_command("export_exchange", "exp", "--format", "label-studio", "--output", str(ls), "--config", str(config))
    tasks = json.loads(ls.read_text())
    assert [t["data"]["url"] for t in tasks][0] == "https://stackoverflow.com/questions/1"
    assert tasks[0]["annotations"][0]["result"][0]["value"] == {"choices": ["wrong loss function"]}
    assert tasks[0]["annotations"][0]["completed_by"] == {"email": "exp-mod"}
    assert "annotations" not in tasks[2]
    assert 'value="wrong loss function"' in config.read_text()
    back = read_exchange("ls.json", ls.read_bytes())
    # the agreed item names no decider: Label Studio then credits the importing user
    assert len(back.rows) == 3 and len(back.annotations) == 1 and len(back.problems) == 1
    out = io.StringIO()
    call_command("export_exchange", "exp", "--format", "doccano", stdout=out)
    docs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["label"] for d in docs] == [["wrong loss function"], ["outside label"], []]
