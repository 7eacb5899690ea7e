"""The coding sheet is read by the round importer's file reader (collection.importers.reading)."""

import codecs
import io

import openpyxl
import pytest

from core.errors import InvalidInput
from interviews import services
from interviews.models import Piece

pytestmark = pytest.mark.django_db

HEADER = ["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"]


def test_utf16_tab_separated_text_as_excel_saves_it(team):
    text = "\t".join(HEADER) + "\r\n1\tcafé tag\t-\tm\tfinal\tA\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="c.txt", data=data)
    assert report["accepted"] == 1 and Piece.objects.get().evaluator1_tag == "café tag"


def test_stray_legacy_bytes_in_a_utf8_file_are_repaired_per_line(team):
    lines = [",".join(HEADER), "1,naïve tag,-,m,final,A", "1,caf\xe9,-,m2,final2,R"]
    data = (lines[0] + "\n" + lines[1] + "\n").encode("utf-8") + (lines[2] + "\n").encode("cp1252")
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="m.csv", data=data)
    assert (report["accepted"], report["removed"]) == (1, 1)
    assert sorted(Piece.objects.values_list("evaluator1_tag", flat=True)) == ["café", "naïve tag"]


def test_row_numbers_count_blank_lines_and_a_title_above_the_header(team):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Interview coding, study 1"])
    sheet.append([])
    sheet.append(HEADER)
    sheet.append([1, "a", "b", "m", "t", "A"])
    sheet.append([])
    sheet.append(["", "orphan", "", "", "", "maybe"])
    out = io.BytesIO()
    workbook.save(out)
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="t.xlsx", data=out.getvalue())
    assert report["tagged_pieces"] == 1
    assert [s["row"] for s in report["skipped"]] == [6]


def test_an_unreadable_workbook_names_the_file(team):
    with pytest.raises(InvalidInput) as error:
        services.coding_sheet_import(project=team.project, user=team.lead, filename="s.xlsx", data=b"PK\x03\x04 junk")
    assert error.value.message.startswith("s.xlsx: not a readable XLSX or CSV file (Unreadable XLSX workbook")
    assert error.value.field == "file"
