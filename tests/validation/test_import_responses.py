"""import_survey_responses: Qualtrics-shaped files (both header layouts, legacy, plain; CSV and XLSX)
into a new closed survey or a given one; shortened group names matched, the others mapped; "None" and
empty cells are no answer; importing twice adds nothing; Table 2 equals a recomputation from the rows."""

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.errors import InvalidInput
from reports.selectors import survey_table2
from tests.factories import NodeFactory
from validation import services
from validation.models import Answer, Response, Survey

from .factories import survey_with_categories
from .qualtrics_files import SurveyRows, as_csv, as_xlsx

pytestmark = pytest.mark.django_db

GROUPS = ["Hyperparameters", "OptimiserProblems", "Validation/Testing", "Model Type", "Loss Function"]


@pytest.fixture
def study(project):
    """The part of the study's taxonomy the generated exports ask about (codes as in the paper)."""
    model = NodeFactory(project=project, name="Model", code="1", position=0)
    NodeFactory(project=project, name="Model Type & Properties", code="1.1", parent=model, position=0)
    training = NodeFactory(project=project, name="Training", code="5", position=1)
    for position, (code, name) in enumerate(
        [("5.1", "Hyperparameters"), ("5.2", "Loss Function"), ("5.3", "Validation & Testing"), ("5.5", "Optimiser")]
    ):
        NodeFactory(project=project, name=name, code=code, parent=training, position=position)
    return project


def half_up(n, base):
    return None if not base else int((Decimal(100) * n / base).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_row(answers):
    said = [a for a in answers if a[0] is not None]
    yes = [a for a in said if a[0] == "Yes"]
    sev = [a[1] for a in yes if a[1]]
    eff = [a[2] for a in yes if a[2]]
    row = {"yes": half_up(len(yes), len(said)), "no": half_up(len(said) - len(yes), len(said))}
    row |= {"n_encountered": len(said), "n_severity": len(sev), "n_effort": len(eff)}
    row |= {level.lower(): half_up(sev.count(level), len(sev)) for level in ("Minor", "Major", "Critical")}
    row |= {level.lower(): half_up(eff.count(level), len(eff)) for level in ("Low", "Medium", "High")}
    return row


@pytest.mark.parametrize("writer", [as_csv, as_xlsx], ids=["csv", "xlsx"])
@pytest.mark.parametrize("layout", ["text+importid", "three-row", "legacy", "plain"])
def test_import_makes_a_closed_survey_and_table2_equals_the_recomputation(study, tmp_path, capsys, layout, writer):
    source = SurveyRows.random(GROUPS, n=21, seed=13, skip=0.2)
    path = tmp_path / f"export-{layout}.{'xlsx' if writer is as_xlsx else 'csv'}"
    path.write_bytes(writer(source.rows(layout)))

    call_command("import_survey_responses", study.slug, str(path))
    report = json.loads(capsys.readouterr().out)
    assert report["survey_created"] is True and report["added"] == 21 and report["unmatched"] == []
    survey = Survey.objects.get(pk=report["survey"])
    assert survey.status == Survey.Status.CLOSED
    assert [(c.code, c.name) for c in survey.categories.order_by("position")] == [
        ("1.1", "Model Type & Properties"),
        ("5.1", "Hyperparameters"),
        ("5.2", "Loss Function"),
        ("5.3", "Validation & Testing"),
        ("5.5", "Optimiser"),
    ]
    response = Response.objects.get(survey=survey, external_id=source.respondents[0].id)
    assert response.submitted_at is not None
    assert response.background[
        "How many years of experience do you have in software development?"
        if layout != "plain"
        else "Years of experience"
    ]

    table = {r["category"]: r for r in survey_table2(survey).as_dict()["rows"]}
    names = dict(
        zip(
            GROUPS,
            ["Hyperparameters", "Optimiser", "Validation & Testing", "Model Type & Properties", "Loss Function"],
            strict=True,
        )
    )
    for group, name in names.items():
        want = expected_row([r.answers[group] for r in source.respondents])
        assert {k: table[name][k] for k in want} == want, name

    # the same file again: nothing changes
    before = (Response.objects.count(), Answer.objects.count(), Survey.objects.count())
    call_command("import_survey_responses", study.slug, str(path))
    again = json.loads(capsys.readouterr().out)
    assert again["survey"] == survey.id and again["added"] == 0 and again["already_imported"] == 21
    assert (Response.objects.count(), Answer.objects.count(), Survey.objects.count()) == before


def test_none_and_empty_cells_are_no_answer(study):
    rows = [
        ["ResponseId", "Hyperparameters_1", "Hyperparameters_2", "Hyperparameters_3"]
        + ["Loss Function_1", "Loss Function_2", "Loss Function_3"],
        ["R_1", "Yes", "None", "", "None", "", ""],
        ["R_2", "No", "", "", "Yes", "Critical", "None"],
        ["R_3", "", "", "", "", "", ""],
    ]  # fmt: skip
    result = services.survey_responses_import(project=study, user=None, data=as_csv(rows), filename="a.csv")
    assert result.added == 3
    rows = {r["category"]: r for r in survey_table2(result.survey).as_dict()["rows"]}
    assert rows["Hyperparameters"]["n_encountered"] == 2 and rows["Hyperparameters"]["n_severity"] == 0
    assert rows["Hyperparameters"]["minor"] is None
    assert rows["Loss Function"]["n_encountered"] == 1 and rows["Loss Function"]["critical"] == 100
    assert rows["Loss Function"]["n_effort"] == 0
    assert Answer.objects.filter(response__external_id="R_3").count() == 0


def test_unmatched_groups_are_reported_and_can_be_mapped(study, tmp_path, capsys):
    rows = [
        ["ResponseId", "HP_1", "HP_2", "HP_3", "Optimizer_1", "Optimizer_2", "Optimizer_3"],
        ["R_1", "Yes", "Major", "Low", "No", "", ""],
    ]
    path = tmp_path / "x.csv"
    path.write_bytes(as_csv(rows))
    call_command("import_survey_responses", study.slug, str(path), "--preview")
    preview = json.loads(capsys.readouterr().out)
    assert preview["unmatched"] == ["HP"] and preview["preview"] is True
    assert [g["category"] for g in preview["groups"]] == ["", "Optimiser"]
    assert not Survey.objects.exists()
    call_command("import_survey_responses", study.slug, str(path), "--map", "HP=5.1")
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 1 and report["unmatched"] == []
    survey = Survey.objects.get()
    assert sorted(survey.categories.values_list("name", flat=True)) == ["Hyperparameters", "Optimiser"]
    assert Answer.objects.get(category__name="Hyperparameters").severity == 2  # Major


def test_into_a_given_survey_by_its_scale(db):
    survey, (a, b) = survey_with_categories(n=2, status=Survey.Status.CLOSED)
    rows = [
        ["ResponseId", f"{a.name}_1", f"{a.name}_2", f"{a.name}_3"],
        ["R_1", "Yes", "4", "5"],
        ["R_2", "Yes", "Major", ""],
    ]
    with pytest.raises(InvalidInput, match="'Major' is not a whole number from 1 to 5"):
        services.survey_responses_import(
            project=survey.project, user=None, data=as_csv(rows), filename="f.csv", survey=survey
        )
    assert not Response.objects.exists()  # nothing written
    rows.pop()
    result = services.survey_responses_import(
        project=survey.project, user=None, data=as_csv(rows), filename="f.csv", survey=survey
    )
    assert result.added == 1 and not result.survey_created
    assert Answer.objects.get(category=a).severity == 4


def test_command_errors(study, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n")
    with pytest.raises(CommandError, match="No category questions"):
        call_command("import_survey_responses", study.slug, str(path))
    path.write_bytes(as_csv([["ResponseId", "Zzz_1", "Zzz_2", "Zzz_3"], ["R", "Yes", "Minor", "Low"]]))
    with pytest.raises(CommandError, match="No column group matches"):
        call_command("import_survey_responses", study.slug, str(path))
    with pytest.raises(CommandError, match="No category 'Nope'"):
        call_command("import_survey_responses", study.slug, str(path), "--map", "Zzz=Nope")
    with pytest.raises(CommandError, match="No such survey"):
        call_command("import_survey_responses", study.slug, str(path), "--survey", "12345")
