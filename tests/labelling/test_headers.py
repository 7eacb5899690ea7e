"""Header matching over generated variants of the round layout: the same round whatever its spelling."""

import pytest

from collection.importers.headers import (
    artefact_field,
    guess_artefact_mapping,
    match_round_headers,
    round_field,
)
from labelling.models import Annotation, Assignment, RoundItem
from reports.table1 import table1
from taxonomy.round_import import round_import_file

from . import roundsheets

VARIANTS = ["study", "lower", "upper", "spaced", "synonyms", "misspelt", "plural"]


def figures(project):
    row = next(r for r in table1(project)["rows"] if r["round"] == "9")
    return {k: row[k] for k in roundsheets.EXPECTED}


def run(project, data, fmt):
    return round_import_file(
        project=project,
        data=data,
        filename=f"round.{fmt}",
        number=9,
        outline_data=roundsheets.OUTLINE,
        outline_name="outline.csv",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("headers", VARIANTS)
def test_header_variants_read_the_same_round(project, headers, fmt):
    report = run(project, roundsheets.build(fmt, headers=headers), fmt)
    assert report["ignored_columns"] == []
    assert report["skipped"] == [] and report["warnings"] == []
    assert figures(project) == roundsheets.EXPECTED
    assert Annotation.objects.filter(assignment__round__project=project).count() == 18
    assert Annotation.objects.filter(assignment__round__project=project, note="refactoring").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_reordered_columns_extra_columns_and_blank_rows(project, fmt):
    data = roundsheets.build(fmt, headers="synonyms", reorder=True, extra=True, blank_rows=True)
    report = run(project, data, fmt)
    assert figures(project) == roundsheets.EXPECTED
    assert report["ignored_columns"] == ["Notes"]
    assert report["skipped"] == []
    assert report["warnings"] == [{"row": 2, "reason": "1 value(s) beyond the last header ignored"}]
    assert report["blank_rows"] >= 8


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_missing_optional_columns(project, fmt):
    # no NumberOfEvaluators, no fourth evaluator: the figures stand, one annotation fewer
    report = run(project, roundsheets.build(fmt, headers="lower", drop=("n", "e4", "t4")), fmt)
    assert figures(project) == roundsheets.EXPECTED
    assert report["annotations"]["created"] == 17
    assert not Assignment.objects.filter(round__project=project, order=4).exists()


@pytest.mark.django_db
def test_missing_second_tag_means_disagreements_never_recorded(project):
    run(project, roundsheets.build(drop=("t2",)), "xlsx")
    assert figures(project)["disagreements"] is None
    assert Assignment.objects.filter(round__project=project, order=2).count() == 8  # still named


@pytest.mark.django_db
def test_header_row_below_a_title_row(project):
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(roundsheets.build()))
    workbook.worksheets[0].insert_rows(1)
    workbook.worksheets[0]["A1"] = "Round 9, labelled in March"
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(project, buffer.getvalue(), "xlsx")
    assert report["analysed"] == 8 and report["skipped"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value,verdict,note",
    [
        ("false positive", "false_positive", ""),
        ("False Positve", "false_positive", ""),
        ("false positive (refactoring)", "false_positive", "refactoring"),
        ("false positive / false positive", "false_positive", ""),
        ("generic generic", "generic", ""),
        ("GENERAL", "generic", ""),
        ("generic: too broad", "generic", "too broad"),
        ("uncler", "unclear", ""),
        ("not clear (no stack trace)", "unclear", "no stack trace"),
    ],
)
def test_misspelt_doubled_and_qualified_verdicts_in_tags(project, value, verdict, note):
    rows = [dict(r) for r in roundsheets.ROWS]
    rows[2]["t2"] = value
    run(project, roundsheets.build(rows=rows), "xlsx")
    item = RoundItem.objects.get(round__project=project, artefact__url=rows[2]["link"])
    annotation = Annotation.objects.get(assignment__item=item, assignment__order=2)
    assert (annotation.verdict, annotation.note, annotation.label_id) == (verdict, note, None)


@pytest.mark.parametrize(
    "header,field",
    [
        ("EntityType", "entity_type"),
        ("entity_types", "entity_type"),
        ("Kind", "entity_type"),
        ("LINK", "link"),
        ("url", "link"),
        ("Hyperlinks", "link"),
        ("conflict?", "conflict"),
        ("NumberOfEvaluators", "n_evaluators"),
        ("No. of evaluators", "n_evaluators"),
        ("Evaluator1", "evaluator1"),
        ("evaluator_12", "evaluator12"),
        ("Annotator 2", "evaluator2"),
        ("Tag1", "tag1"),
        ("Label 3", "tag3"),
        ("Lable4", "tag4"),
        ("Final Tag", "final_tag"),
        ("Final Lable", "final_tag"),
        ("FinalLabels", "final_tag"),
        ("Taxonomy Tag", "taxonomy_tag"),
        ("Taxonomy Label", "taxonomy_tag"),
        ("Taxonomy Cat", "category"),
        ("Taxonomy Category", "category"),
        ("Catagory code", "category"),
        ("Initial Label", "initial_tag"),
        ("Notes", None),
        ("Comment", None),
        ("", None),
    ],
)
def test_round_field(header, field):
    assert round_field(header) == field


def test_first_of_duplicate_columns_wins():
    columns, ignored, duplicates = match_round_headers(["Link", "URL", "Tag1", "Notes"])
    assert columns == {"link": 0, "tag1": 2} and duplicates == ["URL"] and ignored == ["Notes"]


def test_artefact_mapping_never_guesses_labelling_columns():
    header = ["EntityType", "Link", "Title", "Question body", "Tag1", "Final Tag", "Taxonomy Tag", "Tags", "Framework"]
    assert guess_artefact_mapping(header) == {0: "kind", 1: "url", 2: "title", 3: "body", 7: "tags", 8: "framework"}
    assert artefact_field("Evaluator1") is None
