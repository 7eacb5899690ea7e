"""Table 2 in the paper's layout, checked against a recomputation written independently here
(Decimal, ROUND_HALF_UP) from the same answers, and its five renderings."""

import csv
import io
import json
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest

from reports.table2 import (
    EFFORT,
    SEVERITY,
    Counts,
    build_table2,
    code_key,
    count_answers,
    percent,
    render,
    render_csv,
    render_json,
    render_latex,
    render_markdown,
)
from tests.validation.qualtrics_files import SurveyRows, as_csv, as_xlsx
from validation.matching import match_groups
from validation.qualtrics import read_export


def half_up(n: int, base: int):
    if base == 0:
        return None
    return int((Decimal(100) * n / Decimal(base)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def recompute(answers: list[tuple]) -> dict:
    """The row as the paper would report it, from (encountered, severity, effort) with None = skipped."""
    said = [a for a in answers if a[0] in ("Yes", "No")]
    yes = [a for a in said if a[0] == "Yes"]
    rated_severity = [a[1] for a in yes if a[1] is not None]
    rated_effort = [a[2] for a in yes if a[2] is not None]
    row = {
        "yes": half_up(len(yes), len(said)),
        "no": half_up(len(said) - len(yes), len(said)),
        "n_encountered": len(said),
        "n_severity": len(rated_severity),
        "n_effort": len(rated_effort),
    }
    for level in SEVERITY:
        row[level.lower()] = half_up(rated_severity.count(level), len(rated_severity))
    for level in EFFORT:
        row[level.lower()] = half_up(rated_effort.count(level), len(rated_effort))
    return row


@pytest.mark.parametrize(
    "n, base, expected",
    [(1, 200, 1), (1, 8, 13), (5, 40, 13), (1, 40, 3), (1, 3, 33), (2, 3, 67), (0, 5, 0), (5, 5, 100), (1, 0, None)],
)
def test_percent_rounds_half_up(n, base, expected):
    # 1/200 = 0.5% -> 1; 1/8 = 12.5% -> 13; 1/40 = 2.5% -> 3
    assert percent(n, base) == expected == half_up(n, base)


def test_percent_agrees_with_decimal_half_up_everywhere_small():
    for base in range(1, 61):
        for n in range(base + 1):
            assert percent(n, base) == half_up(n, base)


def test_study_row_of_the_issue():
    """Hyperparameters: 18 of 21 yes; severity 8/8/2 of 18; effort 4/6/8 of 18."""
    answers = [
        ("Yes", s, e)
        for s, e in zip(
            ["Minor"] * 8 + ["Major"] * 8 + ["Critical"] * 2, ["Low"] * 4 + ["Medium"] * 6 + ["High"] * 8, strict=True
        )
    ]
    answers += [("No", None, None)] * 3 + [(None, None, None)] * 2
    table = build_table2([("Hyperparameters", "5.1", count_answers(answers))])
    row = table.as_dict()["rows"][0]
    assert {k: v for k, v in row.items() if k != "counts"} == {
        "category": "Hyperparameters",
        "code": "5.1",
        "yes": 86,
        "no": 14,
        "minor": 44,
        "major": 44,
        "critical": 11,
        "low": 22,
        "medium": 33,
        "high": 44,
        "n_encountered": 21,
        "n_severity": 18,
        "n_effort": 18,
    }
    assert row["counts"] == {
        "yes": 18,
        "no": 3,
        "minor": 8,
        "major": 8,
        "critical": 2,
        "low": 4,
        "medium": 6,
        "high": 8,
    }


def test_bases_zero_give_null_and_ratings_without_yes_do_not_count():
    counts = count_answers([("No", "Major", "High"), (None, "Minor", None), ("no", None, None)])
    row = build_table2([("GPU Usage", "2", counts)]).as_dict()["rows"][0]
    assert (row["yes"], row["no"], row["n_encountered"]) == (0, 100, 2)
    assert row["minor"] is None and row["high"] is None and row["n_severity"] == 0 == row["n_effort"]
    nobody = build_table2([("API", "3", count_answers([]))]).as_dict()["rows"][0]
    assert nobody["yes"] is None and nobody["no"] is None and nobody["n_encountered"] == 0


def test_unknown_levels_are_refused():
    with pytest.raises(ValueError, match="not a severity level"):
        count_answers([("Yes", "Huge", None)])
    with pytest.raises(ValueError, match="not a yes/no"):
        count_answers([("Maybe", None, None)])


def test_category_order_by_code_numerically_uncoded_last():
    codes = ["10", "5.10", "", "5.8", "1.2.1", "9", "5.7", "1", "", "1.10", "1.2"]
    names = [f"c{i}" for i in range(len(codes))]
    table = build_table2([(n, c, Counts()) for n, c in zip(names, codes, strict=True)])
    assert [r.code for r in table.rows] == ["1", "1.2", "1.2.1", "1.10", "5.7", "5.8", "5.10", "9", "10", "", ""]
    assert [r.category for r in table.rows if not r.code] == ["c2", "c8"]  # as given
    assert code_key("5.8") < code_key("5.10") < code_key("10") < code_key("")


@pytest.mark.parametrize("layout", ["text+importid", "three-row", "legacy", "plain"])
@pytest.mark.parametrize("writer", [as_csv, as_xlsx], ids=["csv", "xlsx"])
def test_table2_from_an_import_equals_the_recomputation(layout, writer):
    categories = [
        ("5.1", "Hyperparameters"),
        ("5.5", "Optimiser"),
        ("5.3", "Validation & Testing"),
        ("1.1", "Model Type & Properties"),
    ]
    groups = ["Hyperparameters", "OptimiserProblems", "Validation/Testing", "Model Type"]
    source = SurveyRows.random(groups, n=21, seed=7, skip=0.2)
    export = read_export(writer(source.rows(layout)), "f.xlsx" if writer is as_xlsx else "f.csv")
    match = match_groups(export.groups, [name for _, name in categories])
    assert match.unmatched == []
    code = dict((name, code) for code, name in categories)
    table = build_table2(
        [
            (
                name,
                code[name],
                count_answers(
                    (r.answers[group].encountered, r.answers[group].severity, r.answers[group].effort)
                    for r in export.respondents
                ),
            )
            for group, name in match.matched.items()
        ]
    )
    got = {r["category"]: r for r in table.as_dict()["rows"]}
    assert [r.code for r in table.rows] == ["1.1", "5.1", "5.3", "5.5"]
    for group, name in match.matched.items():
        want = recompute([r.answers[group] for r in source.respondents])
        assert {k: got[name][k] for k in want} == want
        assert got[name]["n_encountered"] < 21  # some respondents skipped it: the base says so


def _table():
    rows = [
        ("Model Type & Properties", "1.1", count_answers([("Yes", "Critical", "Low"), ("No", None, None)])),
        ("Hyper_params 100%", "5.1", count_answers([("Yes", None, "High")])),
        ("Nobody", "", count_answers([])),
    ]
    return build_table2(rows, title="Faults & fixes", respondents=2)


def test_csv_rendering():
    rows = list(csv.reader(io.StringIO(render_csv(_table()))))
    assert rows[0] == [
        "Code", "Category", "Yes (%)", "No (%)", "n (encountered)", "Minor (%)", "Major (%)", "Critical (%)",
        "n (severity)", "Low (%)", "Medium (%)", "High (%)", "n (effort)",
    ]  # fmt: skip
    assert rows[1] == ["1.1", "Model Type & Properties", "50", "50", "2", "0", "0", "100", "1", "100", "0", "0", "1"]
    assert rows[2][8] == "0" and rows[2][5:8] == ["", "", ""]  # rated effort only: severity base 0
    assert rows[3] == ["", "Nobody", "", "", "0", "", "", "", "0", "", "", "", "0"]


def test_json_rendering_has_exactly_the_issue_shape():
    data = json.loads(render_json(_table()))
    assert list(data) == ["rows"]
    assert list(data["rows"][0]) == [
        "category", "code", "yes", "no", "minor", "major", "critical", "low", "medium", "high",
        "n_encountered", "n_severity", "n_effort", "counts",
    ]  # fmt: skip
    assert data["rows"][2]["yes"] is None


def test_markdown_rendering():
    text = render_markdown(_table())
    lines = text.splitlines()
    assert lines[0] == "**Faults & fixes** (2 respondents)"
    assert lines[2].startswith("| Code | Category | Yes | No | n (encountered) | Minor |")
    assert "| 1.1 | Model Type & Properties | 50% | 50% | 2 | 0% | 0% | 100% | 1 | 100% | 0% | 0% | 1 |" in lines
    assert r"Hyper\_params 100%" in text
    assert "| – | – | 0 |" in text


def test_latex_rendering_is_booktabs_with_grouped_headings():
    text = render_latex(_table())
    assert r"\toprule" in text and r"\midrule" in text and r"\bottomrule" in text
    assert r"\multicolumn{3}{c}{Encountered} & \multicolumn{4}{c}{Severity} & \multicolumn{4}{c}{Effort}" in text
    assert r"\cmidrule(lr){3-5}\cmidrule(lr){6-9}\cmidrule(lr){10-13}" in text
    assert (
        r"1.1 & Model Type \& Properties & 50\% & 50\% & 2 & 0\% & 0\% & 100\% & 1 & 100\% & 0\% & 0\% & 1 \\" in text
    )
    assert r"Hyper\_params 100\%" in text
    assert r" & Nobody & -- & -- & 0 & " in text
    assert r"\caption{Validation survey: Faults \& fixes (2 respondents)}" in text


def test_xlsx_rendering_keeps_numbers_and_counts():
    content, content_type, extension = render(_table(), "xlsx")
    assert extension == "xlsx" and "spreadsheetml" in content_type
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook["Table 2"]
    assert [sheet.cell(1, c).value for c in (3, 6, 10)] == ["Encountered", "Severity", "Effort"]
    assert [sheet.cell(3, c).value for c in range(1, 6)] == ["1.1", "Model Type & Properties", 50, 50, 2]
    assert sheet.cell(3, 3).number_format == '0"%"'
    assert sheet.cell(5, 3).value is None
    counts = workbook["Counts"]
    assert [c.value for c in counts[1]][:4] == ["Code", "Category", "yes", "no"]
    assert [c.value for c in counts[2]][:4] == ["1.1", "Model Type & Properties", 1, 1]


def test_numeric_scale_levels_give_their_own_columns():
    counts = count_answers(
        [("Yes", "4", "2"), ("Yes", "5", None)],
        severity_levels=("1", "2", "3", "4", "5"),
        effort_levels=("1", "2", "3", "4", "5"),
    )
    table = build_table2(
        [("Layers", "1.2", counts)], severity_levels=("1", "2", "3", "4", "5"), effort_levels=("1", "2", "3", "4", "5")
    )
    row = table.as_dict()["rows"][0]
    assert (row["severity_4"], row["severity_5"], row["severity_1"]) == (50, 50, 0)
    assert (row["effort_2"], row["n_severity"], row["n_effort"]) == (100, 2, 1)
    assert row["counts"]["severity_4"] == 1
