"""REFI-QDA codebook (.qdc) and project (.qdpx), Label Studio JSON and doccano JSONL writers.

The REFI-QDA schema files are not part of this repository. The structure is checked element
by element from the standard's documentation (REFI-QDA 1.5: Codebook.xsd and
Project-mrt2019.xsd as published by the REFI consortium): root, namespace, element order,
required attributes and their types. When REFI_QDA_XSD_DIR names a directory holding
`Codebook.xsd` and `Project-mrt2019.xsd`, the files are also validated against them.
"""

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from collection.formats.common import FormatError
from collection.formats.detect import read_exchange
from collection.formats.refiqda import NS_CODEBOOK, NS_PROJECT, Code, codebook_xml, read_codebook, stable_guid
from reports.exchange.qdpx import QdaSelection, QdaSource, QdaUser, write_qdpx
from reports.exchange.tools import ExportItem, labelstudio_config, write_doccano_jsonl, write_labelstudio_json

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RGB = re.compile(r"^#[0-9A-F]{6}$")
XSD_DIR = os.environ.get("REFI_QDA_XSD_DIR")


def tree() -> list[Code]:
    return [
        Code(
            name="Training",
            key="T",
            codable=False,
            description="Faults in training",
            children=[
                Code(name="Loss function", key="T.1", children=[Code(name="Wrong loss function", key="T.1.a")]),
                Code(name="Optimiser", key="T.2", description="Wrong optimiser & co <b>"),
            ],
        ),
        Code(name="GPU Usage", key="G"),
    ]


def _validate(xml: bytes, xsd_name: str) -> None:
    if not XSD_DIR:
        return
    schema = etree.XMLSchema(etree.parse(str(Path(XSD_DIR) / xsd_name)))
    schema.assertValid(etree.fromstring(xml))


def test_qdc_root_namespace_and_nested_codes():
    xml = codebook_xml(tree(), project="demo")
    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = etree.fromstring(xml)
    assert etree.QName(root).namespace == NS_CODEBOOK and etree.QName(root).localname == "CodeBook"
    assert root.get("origin") == "Concord"
    assert [etree.QName(c).localname for c in root] == ["Codes"]
    codes = root.find(f"{{{NS_CODEBOOK}}}Codes")
    top = codes.findall(f"{{{NS_CODEBOOK}}}Code")
    assert [c.get("name") for c in top] == ["Training", "GPU Usage"]
    training = top[0]
    assert training.get("isCodable") == "false" and top[1].get("isCodable") == "true"
    # Description comes first, then the child codes
    assert [etree.QName(c).localname for c in training] == ["Description", "Code", "Code"]
    assert training.find(f"{{{NS_CODEBOOK}}}Description").text == "Faults in training"
    every = root.iter(f"{{{NS_CODEBOOK}}}Code")
    for code in every:
        assert GUID.match(code.get("guid")), code.get("guid")
        assert RGB.match(code.get("color"))
        assert set(code.attrib) <= {"guid", "name", "isCodable", "color"}
    _validate(xml, "Codebook.xsd")


def test_qdc_guids_are_stable_and_depend_on_project_and_identity():
    first = codebook_xml(tree(), project="demo")
    assert codebook_xml(tree(), project="demo") == first
    other = codebook_xml(tree(), project="other")
    assert other != first
    guid = etree.fromstring(first).find(f".//{{{NS_CODEBOOK}}}Code").get("guid")
    assert guid == stable_guid("demo", "code", "T")


def test_qdc_round_trip_through_the_reader():
    codes = read_codebook(codebook_xml(tree(), project="demo"))
    assert [c.name for c in codes] == ["Training", "GPU Usage"]
    training = codes[0]
    assert not training.codable and training.description == "Faults in training"
    assert [c.name for c in training.children] == ["Loss function", "Optimiser"]
    assert training.children[1].description == "Wrong optimiser & co <b>"
    assert [c.name for c in training.children[0].children] == ["Wrong loss function"]
    assert training.guid == stable_guid("demo", "code", "T")


def test_qdc_reader_accepts_other_tools_codebooks():
    # as another tool writes it: braces around GUIDs, a #RGB colour, a Sets element
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="{NS_CODEBOOK}" origin="Taguette">
  <Codes>
    <Code guid="{{6A3F2B7C-1D2E-4F50-8A9B-0C1D2E3F4A5B}}" name="interesting" isCodable="true" color="#F00">
      <Description>Worth a look</Description>
    </Code>
    <Code guid="7b3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" name="people" isCodable="1"/>
  </Codes>
  <Sets><Set guid="8b3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" name="s"/></Sets>
</CodeBook>""".encode()
    codes = read_codebook(xml)
    assert [(c.name, c.guid, c.color, c.codable) for c in codes] == [
        ("interesting", "6a3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b", "#F00", True),
        ("people", "7b3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b", None, True),
    ]
    assert codes[0].description == "Worth a look"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"not xml", "Not an XML document"),
        (b"<outline/>", "Not a REFI-QDA codebook"),
        (f'<CodeBook xmlns="{NS_CODEBOOK}"/>'.encode(), "no Codes"),
        (
            f'<CodeBook xmlns="{NS_CODEBOOK}"><Codes><Code guid="x" name="a" isCodable="true"/>'
            f"</Codes></CodeBook>".encode(),
            "valid guid",
        ),
        (
            f'<CodeBook xmlns="{NS_CODEBOOK}"><Codes><Code guid="6a3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" '
            f'isCodable="true"/></Codes></CodeBook>'.encode(),
            "without a name",
        ),
        (
            f'<CodeBook xmlns="{NS_CODEBOOK}"><Codes>'
            f'<Code guid="6a3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" name="a" isCodable="true"/>'
            f'<Code guid="6a3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" name="b" isCodable="true"/>'
            f"</Codes></CodeBook>".encode(),
            "more than one code",
        ),
        (
            f'<CodeBook xmlns="{NS_CODEBOOK}"><Codes><Code guid="6a3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" '
            f'name="a" isCodable="yes"/></Codes></CodeBook>'.encode(),
            "isCodable",
        ),
    ],
)
def test_qdc_reader_refuses_broken_codebooks(xml, message):
    with pytest.raises(FormatError, match=message):
        read_codebook(xml)


def test_qdc_reader_never_resolves_entities():
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="6a3f2b7c-1d2e-4f50-8a9b-0c1d2e3f4a5b" '
        b'name="a" isCodable="true"><Description>&e;</Description></Code></Codes></CodeBook>'
    )
    (code,) = read_codebook(xml)
    assert "root:" not in code.description


def _project(codes=None):
    codes = tree() if codes is None else codes
    from_key = {}
    buf = io.BytesIO()
    transcript = "Interviewer: What broke?\nAlice: The loss was nan — every épochs.\n"
    start = transcript.index("The loss")
    end = transcript.index("\n", start)

    def sources():
        from_key.update({c.key: c.guid for top in codes for c in top.walk()})
        yield QdaSource(
            key="interview:1",
            name="Interview 1",
            text=transcript,
            description="P1",
            selections=[QdaSelection(start=start, end=end, code_guids=[from_key["T.1.a"]], user_key="alice")],
        )
        yield QdaSource(
            key="artefact:https://stackoverflow.com/questions/1",
            name="https://stackoverflow.com/questions/1",
            text="Loss is nan\n\nbody",
            selections=[QdaSelection(start=0, end=17, code_guids=[from_key["G"]])],
        )

    counts = write_qdpx(
        buf,
        project="demo",
        name="Demo project",
        users=[QdaUser(key="alice"), QdaUser(key="bob", name="Bob B")],
        codes=codes,
        sources=sources,
        creating_user="alice",
        created="2026-01-02T03:04:05Z",
    )
    return buf.getvalue(), counts, transcript, (start, end)


def test_qdpx_is_a_zip_with_project_qde_and_sources():
    data, counts, transcript, (start, end) = _project()
    assert counts == {"users": 2, "codes": 5, "sources": 2, "selections": 2, "codings": 2}
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert "project.qde" in names
    texts = sorted(n for n in names if n.startswith("sources/"))
    assert len(texts) == 2 and all(n.endswith(".txt") for n in texts)
    qde = archive.read("project.qde")
    root = etree.fromstring(qde)
    assert etree.QName(root).namespace == NS_PROJECT and etree.QName(root).localname == "Project"
    assert root.get("name") == "Demo project" and root.get("creationDateTime") == "2026-01-02T03:04:05Z"
    assert [etree.QName(c).localname for c in root] == ["Users", "CodeBook", "Sources"]
    users = root.findall(f"{{{NS_PROJECT}}}Users/{{{NS_PROJECT}}}User")
    assert [(u.get("id"), u.get("name")) for u in users] == [("alice", "alice"), ("bob", "Bob B")]
    assert root.get("creatingUserGUID") == users[0].get("guid")
    # the codes equal the tree's nodes
    names_in_codebook = [c.get("name") for c in root.iter(f"{{{NS_PROJECT}}}Code")]
    assert names_in_codebook == [c.name for top in tree() for c in top.walk()]
    code_guids = {c.get("name"): c.get("guid") for c in root.iter(f"{{{NS_PROJECT}}}Code")}
    interview, artefact = root.findall(f"{{{NS_PROJECT}}}Sources/{{{NS_PROJECT}}}TextSource")
    assert interview.get("plainTextPath") == f"internal://{interview.get('guid')}.txt"
    assert interview.find(f"{{{NS_PROJECT}}}PlainTextContent") is None
    assert archive.read(f"sources/{interview.get('guid')}.txt").decode() == transcript
    assert [etree.QName(c).localname for c in interview] == ["Description", "PlainTextSelection"]
    selection = interview.find(f"{{{NS_PROJECT}}}PlainTextSelection")
    assert (int(selection.get("startPosition")), int(selection.get("endPosition"))) == (start, end)
    assert transcript[start:end] == "The loss was nan — every épochs."
    assert selection.get("creatingUser") == users[0].get("guid")
    coding = selection.find(f"{{{NS_PROJECT}}}Coding")
    assert GUID.match(coding.get("guid"))
    assert coding.find(f"{{{NS_PROJECT}}}CodeRef").get("targetGUID") == code_guids["Wrong loss function"]
    art_sel = artefact.find(f"{{{NS_PROJECT}}}PlainTextSelection")
    assert art_sel.get("creatingUser") is None
    assert art_sel.find(f"{{{NS_PROJECT}}}Coding/{{{NS_PROJECT}}}CodeRef").get("targetGUID") == code_guids["GPU Usage"]
    # the codebook inside reads back like a .qdc
    assert [c.name for c in read_codebook(qde)] == ["Training", "GPU Usage"]
    _validate(qde, "Project-mrt2019.xsd")


def test_qdpx_is_byte_identical_when_exported_twice():
    assert _project()[0] == _project()[0]


def test_qdpx_refuses_selections_outside_the_text_or_unknown_codes():
    with pytest.raises(ValueError, match="outside"):
        QdaSource(key="s", name="s", text="abc", selections=[QdaSelection(start=2, end=5, code_guids=[])])
    source = QdaSource(key="s", name="s", text="abc", selections=[QdaSelection(start=0, end=3, code_guids=["nope"])])
    with pytest.raises(ValueError, match="not in the codebook"):
        write_qdpx(io.BytesIO(), project="p", name="p", users=[], codes=tree(), sources=[source])


def test_qdpx_without_sources_or_codes_is_still_a_project():
    buf = io.BytesIO()
    write_qdpx(buf, project="p", name="Empty", users=[], codes=[], sources=[])
    root = etree.fromstring(zipfile.ZipFile(buf).read("project.qde"))
    assert etree.QName(root).localname == "Project" and len(root) == 0
    _validate(etree.tostring(root), "Project-mrt2019.xsd")


ITEMS = [
    ExportItem(
        id=1,
        url="https://stackoverflow.com/questions/1",
        title="Loss is nan",
        body="After 3 epochs",
        kind="so_question",
        framework="keras",
        labels=["wrong loss function"],
        completed_by="moderator",
    ),
    ExportItem(id=2, url="https://github.com/a/b/issues/2", title="Crash", verdict="false positive"),
    ExportItem(id=3, url="https://github.com/a/b/issues/3", title="Open", metadata={"score": 4}),
]


def test_labelstudio_json_tasks_carry_the_final_label_and_read_back():
    out = io.StringIO()
    assert write_labelstudio_json(ITEMS, out) == 3
    tasks = json.loads(out.getvalue())
    assert tasks[0]["data"]["url"] == "https://stackoverflow.com/questions/1"
    assert tasks[0]["data"]["text"] == "Loss is nan\n\nAfter 3 epochs"
    (annotation,) = tasks[0]["annotations"]
    assert annotation["result"] == [
        {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": ["wrong loss function"]}}
    ]
    assert tasks[1]["annotations"][0]["result"][0]["from_name"] == "verdict"
    assert "annotations" not in tasks[2] and tasks[2]["data"]["meta_info"] == {"score": 4}
    back = read_exchange("tasks.json", out.getvalue().encode())
    assert back.tool == "label-studio" and [r.link for r in back.rows] == [i.url for i in ITEMS]
    assert [(r.evaluator, r.labels) for r in back.ratings if r.field_name == "label"] == [
        ("moderator", ["wrong loss function"])
    ]
    empty = io.StringIO()
    write_labelstudio_json([], empty)
    assert json.loads(empty.getvalue()) == []


def test_labelstudio_config_lists_every_label_as_a_choice():
    config = labelstudio_config(["b", "a & c", "b"], ["false positive"])
    root = etree.fromstring(config.encode())
    assert root.find("Text").get("name") == "text"
    label, verdict = root.findall("Choices")
    assert [c.get("value") for c in label] == ["a & c", "b"]
    assert label.get("name") == "label" and label.get("toName") == "text"
    assert [c.get("value") for c in verdict] == ["false positive"]


def test_doccano_jsonl_documents_read_back():
    out = io.StringIO()
    assert write_doccano_jsonl(ITEMS, out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] == {
        "id": 1,
        "text": "Loss is nan\n\nAfter 3 epochs",
        "label": ["wrong loss function"],
        "url": "https://stackoverflow.com/questions/1",
        "kind": "so_question",
        "framework": "keras",
    }
    assert lines[1]["label"] == ["false positive"] and lines[2]["label"] == [] and lines[2]["score"] == 4
    back = read_exchange("docs.jsonl", out.getvalue().encode(), evaluator="lead")
    assert back.tool == "doccano" and back.link_column == "url"
    assert [r.link for r in back.rows] == [i.url for i in ITEMS]
    assert [r.labels for r in back.ratings] == [["wrong loss function"], ["false positive"]]
