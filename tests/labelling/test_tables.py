"""The shared table renderers behind Table 1 (reports.table1) and the tag summary (reports.tag_summary)."""

import io

import openpyxl

from core import tables
from reports import table1 as stats

HEADINGS = ["Name", "Kind", "N", "Mean"]
ROWS = [["a|b\\c", "x", 3, 1.25], ["=1+1", "", None, 2.0], ["plain", "y", 0, None]]


def test_empty_cells_and_numbers_per_format():
    assert tables.render_csv(HEADINGS, ROWS).splitlines()[2] == "'=1+1,,,2.0"  # a formula neutralised
    text = tables.render_text(HEADINGS, ROWS, left=2).splitlines()
    assert text[1] == "-----  ----  -  ----"
    assert text[3] == "=1+1   –     –   2.0"
    markdown = tables.render_markdown(HEADINGS, ROWS, left=2).splitlines()
    assert markdown[1] == "|:---|:---|---:|---:|"
    assert markdown[2] == "| a\\|b\\\\c | x | 3 | 1.25 |"
    assert markdown[4] == "| plain | y | 0 | – |"


def test_latex_rules_and_raw_cells():
    rows = [[tables.Latex(r"\quad a"), "x_y", 3, 1.25], ["b", "", None, 2.0]]
    text = tables.render_latex(HEADINGS, rows, caption="C \\& D", label="tab:t", left=2, rules_before=[1])
    lines = text.splitlines()
    assert lines[2:5] == [r"  \caption{C \& D}", r"  \label{tab:t}", r"  \begin{tabular}{llrr}"]
    assert lines[8:11] == [r"    \quad a & x\_y & 3 & 1.25 \\", r"    \midrule", r"    b & -- & -- & 2.0 \\"]


def test_xlsx_keeps_text_as_text_and_bolds_headings():
    workbook = tables.xlsx_workbook("T", HEADINGS, ROWS, widths=[20, 8, 8, 8])
    workbook.create_sheet("More").append(["=SUM(A1:A2)", 1])
    book = openpyxl.load_workbook(io.BytesIO(tables.xlsx_bytes(workbook)))
    sheet = book["T"]
    assert sheet["A3"].value == "=1+1" and sheet["A3"].data_type == "s"
    assert sheet["C2"].value == 3 and sheet["D2"].value == 1.25
    assert sheet.column_dimensions["A"].width == 20
    assert all(cell.font.bold for cell in sheet[1])
    assert book["More"]["A1"].value == "=SUM(A1:A2)" and book["More"]["A1"].data_type == "s"


def test_table1_xlsx_keeps_a_round_name_as_text():
    table = {
        "rows": [
            {"round": "=1+1", "analysed": 1, "disagreements": 0, "conflicts": 0, "relevant": 0, "new_inner": [1]},
            {"round": "subtotal", "analysed": 1, "disagreements": 0, "conflicts": 0, "relevant": 0, "new_inner": [1]},
        ]
    }
    sheet = openpyxl.load_workbook(io.BytesIO(stats.render_xlsx(table))).active
    assert sheet.title == "Table 1"
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
