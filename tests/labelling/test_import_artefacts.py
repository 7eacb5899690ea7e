"""Importing artefacts: formats, encodings, messy rows, duplicates, mapping, idempotence, the command."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collection.importers.reading import decode_text
from collection.models import Artefact
from collection.services import artefacts_import_file
from core.errors import InvalidInput
from core.models import Project

pytestmark = pytest.mark.django_db


def run(project, data, filename="artefacts.csv", **kwargs):
    return artefacts_import_file(project=project, data=data, filename=filename, **kwargs)


def urls(project):
    return set(Artefact.objects.filter(project=project).values_list("url", flat=True))


def test_utf8_bom_crlf_and_ragged_rows(project):
    data = (
        "\ufeffLink,Title,EntityType,,\r\n"
        "https://stackoverflow.com/questions/1,Naïve “loss” is NaN,so-keras,,\r\n"
        "https://github.com/a/b/pull/2,Shapes,issue-torch\r\n"
        "https://github.com/a/b/commit/3,Fix,commit-tensorflow,,,,\r\n"
    ).encode()
    report = run(project, data)
    assert (report["created"], report["skipped"], report["repaired"]) == (3, [], [])
    artefacts = {a.url: a for a in Artefact.objects.filter(project=project)}
    so = artefacts["https://stackoverflow.com/questions/1"]
    assert (so.title, so.kind, so.framework) == ("Naïve “loss” is NaN", Artefact.Kind.SO_QUESTION, "keras")
    assert artefacts["https://github.com/a/b/pull/2"].kind == Artefact.Kind.GH_PULL
    assert artefacts["https://github.com/a/b/commit/3"].kind == Artefact.Kind.GH_COMMIT


def test_stray_cp1252_bytes_are_repaired_and_reported(project):
    data = (
        b"url,title\n"
        + "https://stackoverflow.com/questions/1,plain ünïcode\n".encode()
        + b"https://stackoverflow.com/questions/2,caf\xe9 \x93quoted\x94\n"
        + b"https://stackoverflow.com/questions/3,fine\n"
        + b"https://stackoverflow.com/questions/4,it\x92s \x96 ok\n"
    )
    report = run(project, data)
    assert report["created"] == 4
    assert report["repaired"] == [{"row": 3, "encoding": "cp1252"}, {"row": 5, "encoding": "cp1252"}]
    titles = dict(Artefact.objects.filter(project=project).values_list("url", "title"))
    assert titles["https://stackoverflow.com/questions/1"] == "plain ünïcode"
    assert titles["https://stackoverflow.com/questions/2"] == "café “quoted”"
    assert titles["https://stackoverflow.com/questions/4"] == "it’s – ok"


def test_mac_roman_file_is_repaired(project):
    data = b"url;title\rhttps://stackoverflow.com/questions/1;caf\x8e cr\x8fme\rhttps://stackoverflow.com/questions/2;don\xd5t\r"
    report = run(project, data)
    assert report["created"] == 2
    assert {r["encoding"] for r in report["repaired"]} == {"mac_roman"}
    titles = sorted(Artefact.objects.filter(project=project).values_list("title", flat=True))
    assert titles == ["café crème", "don’t"]


def test_decode_keeps_valid_utf8_beside_stray_bytes():
    text, repaired = decode_text("é".encode() + b" \xe9\n" + b"ok\n")
    assert text == "é é\nok\n" and repaired == {1: "cp1252"}


def test_duplicates_are_one_artefact_and_reported(project):
    data = (
        b"Link,Title\n"
        b"https://stackoverflow.com/questions/1,first\n"
        b"https://StackOverflow.com/questions/1/,again\n"
        b"stackoverflow.com/questions/1,bare host\n"
        b"https://stackoverflow.com/questions/2,other\n"
    )
    report = run(project, data)
    assert report["created"] == 2
    assert [(d["row"], d["first_row"]) for d in report["duplicates"]] == [(3, 2), (4, 2)]
    assert Artefact.objects.get(url="https://stackoverflow.com/questions/1").title == "first"


def test_bad_rows_skipped_with_row_numbers(project):
    data = b"Link,Title\nhttps://stackoverflow.com/questions/1,ok\nnot a url,bad\n,no link\n\n\nhttps://x.org/a,ok\n"
    report = run(project, data)
    assert report["created"] == 2
    assert report["skipped"] == [
        {"row": 3, "reason": "link 'not a url' is not an http(s) URL"},
        {"row": 4, "reason": "no link"},
    ]


def test_json_and_json_lines(project):
    doc = {
        "artefacts": [{"url": "https://x.org/1", "title": "one", "tags": ["keras", "gpu"], "metadata": {"score": 3}}]
    }
    report = run(project, json.dumps(doc).encode(), "a.json", map_options=["metadata=metadata"])
    assert report["created"] == 1
    artefact = Artefact.objects.get(url="https://x.org/1")
    assert artefact.tags == ["keras", "gpu"] and artefact.metadata == {"score": 3}
    lines = (
        b'{"link": "https://x.org/2", "title": "two"}\n{broken\n\n["not", "an object"]\n{"link": "https://x.org/3"}\n'
    )
    report = run(project, lines, "b.jsonl")
    assert report["created"] == 2
    assert [s["row"] for s in report["skipped"]] == [2, 4]
    assert report["skipped"][0]["reason"].startswith("not valid JSON")


def test_xlsx_first_sheet(project):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["EntityType", "Link", "Title", "Tag1"])
    sheet.append(["so-tensorflow", "https://stackoverflow.com/questions/9", "A question", "secret label"])
    sheet.append([None, None, None, None])
    workbook.create_sheet("Other").append(["Link"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(project, buffer.getvalue(), "a.xlsx")
    assert report["created"] == 1 and report["ignored_columns"] == ["Tag1"]
    artefact = Artefact.objects.get(project=project)
    assert artefact.framework == "tensorflow" and artefact.metadata == {}  # labels never leak into artefacts


def test_explicit_mapping(project):
    data = b"Address,Headline,Score\nhttps://x.org/1,Hello,5\n"
    report = run(project, data, map_options=["Address=url", "2=title", "score=metadata"])
    assert report["columns"] == {"Address": "url", "Headline": "title", "Score": "metadata"}
    artefact = Artefact.objects.get(project=project)
    assert (artefact.title, artefact.metadata) == ("Hello", {"Score": "5"})
    with pytest.raises(InvalidInput, match="Unknown field"):
        run(project, data, map_options=["Address=nonsense"])
    with pytest.raises(InvalidInput, match="No column"):
        run(project, data, map_options=["Missing=url"])


def test_reimport_changes_nothing_and_updates_only_what_the_file_brings(project):
    data = b"Link,Title,Tags\nhttps://x.org/1,One,keras\nhttps://x.org/2,,\n"
    run(project, data)
    before = list(Artefact.objects.filter(project=project).order_by("id").values())
    report = run(project, data)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)
    assert list(Artefact.objects.filter(project=project).order_by("id").values()) == before
    report = run(project, b"Link,Title,Tags\nhttps://x.org/1,,gpu\nhttps://x.org/2,Two,\n")
    assert (report["created"], report["updated"]) == (0, 2)
    one, two = Artefact.objects.filter(project=project).order_by("id")
    assert (one.title, one.tags) == ("One", ["keras", "gpu"])  # an empty cell never erases
    assert two.title == "Two"


def test_no_link_column_changes_nothing(project):
    with pytest.raises(InvalidInput, match="No link column"):
        run(project, b"Title,Body\nA,B\n")
    assert not Artefact.objects.exists()


def test_unreadable_files(project):
    with pytest.raises(InvalidInput, match="empty"):
        run(project, b"")
    with pytest.raises(InvalidInput, match="Unreadable JSON"):
        run(project, b"[{oops", "a.json")
    with pytest.raises(InvalidInput, match="xls"):
        run(project, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")


def test_command_prints_only_json_and_creates_the_project(tmp_path, capsys):
    path = tmp_path / "a.csv"
    path.write_bytes(b"Link,Title\nhttps://x.org/1,One\nhttps://x.org/1,Dup\n")
    call_command("import_artefacts", "fresh", str(path), "--lead", "lena", "--map", "Title=title")
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["created"] == 1 and len(report["duplicates"]) == 1
    assert "Created project fresh" in err
    assert Project.objects.get(slug="fresh").memberships.get(user__username="lena").is_lead


def test_command_fails_without_changing_anything(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"Title\nno link here\n")
    with pytest.raises(CommandError, match="No link column"):
        call_command("import_artefacts", "fresh", str(path), "--lead", "lena")
    assert not Project.objects.filter(slug="fresh").exists()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_artefacts", "fresh", str(tmp_path / "missing.csv"))


def test_title_row_above_the_header(project):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mined from Stack Overflow, March 2019"])
    sheet.append(["Link", "Title"])
    sheet.append(["https://stackoverflow.com/questions/9", "A question"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(project, buffer.getvalue(), "a.xlsx")
    assert report["created"] == 1 and report["columns"] == {"Link": "url", "Title": "title"}
