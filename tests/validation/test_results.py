"""Table 2 aggregation against generated data whose figures can be worked out by hand."""

import pytest

from validation.selectors import survey_results
from validation.services import response_start

from .factories import SurveyCategoryFactory, respond, survey_with_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered():
    """Categories A (level 1), B (level 2, under A), C (level 1), D (nobody answers it).

    Submitted:        A            B            C
      r1 developer    yes 4/2      no           yes 2/5
      r2 developer    yes 5/3      yes 3/3      no
      r3 researcher   no           no           yes 1/1
      r4 (no role)    yes 3/5      -            no
    In progress r5 says yes 1/1 everywhere and must not count; another survey's answers neither."""
    survey, (a, c) = survey_with_categories(n=2)
    a.name, a.code, a.path, a.position = "Model", "1", ["Model"], 1
    a.save()
    b = SurveyCategoryFactory(survey=survey, position=5, code="1.1", name="Layers", path=["Model", "Layers"], level=2)
    c.position, c.code, c.name, c.path = 10, "2", "Training", ["Training"]
    c.save()
    d = SurveyCategoryFactory(survey=survey, position=11, code="3", name="GPU")
    respond(
        survey,
        {a: (True, 4, 2), b: (False, None, None), c: (True, 2, 5, "seen it twice")},
        role="developer",
        years=2,
        frameworks=["Keras", "PyTorch"],
        missing="Data leakage between splits",
    )
    respond(
        survey,
        {a: (True, 5, 3), b: (True, 3, 3, "rare"), c: (False, None, None)},
        role="developer",
        years=4,
        frameworks=["Keras"],
    )
    respond(
        survey,
        {a: (False, None, None), b: (False, None, None), c: (True, 1, 1)},
        role="researcher",
        missing="GPU out of memory",
    )
    respond(survey, {a: (True, 3, 5), c: (False, None, None)}, years=9)
    respond(survey, {a: (True, 1, 1), b: (True, 1, 1), c: (True, 1, 1)}, submitted=False, missing="ignored")
    other, (x,) = survey_with_categories(n=1)
    respond(other, {x: (True, 1, 1)})
    return survey, {"A": a, "B": b, "C": c, "D": d}


def test_table2_rows(answered):
    survey, _ = answered
    results = survey_results(survey)
    got = [
        (r.code, r.name, r.level, r.respondents, r.yes, r.no, r.yes_percent, r.mean_severity, r.mean_effort)
        for r in results.rows
    ]
    assert got == [
        ("1", "Model", 1, 4, 3, 1, 75.0, 4.0, 3.33),  # severity (4+5+3)/3, effort (2+3+5)/3
        ("1.1", "Layers", 2, 3, 1, 2, 33.3, 3.0, 3.0),
        ("2", "Training", 1, 4, 2, 2, 50.0, 1.5, 3.0),  # severity (2+1)/2, effort (5+1)/2
        ("3", "GPU", 1, 0, 0, 0, None, None, None),
    ]
    assert results.submitted == 4
    assert results.in_progress == 1
    assert results.has_responses


def test_background_missing_faults_and_comments(answered):
    survey, cats = answered
    results = survey_results(survey)
    assert results.mean_experience == 5.0  # (2+4+9)/3; r3 gave none
    assert [(r["role"], r["n"]) for r in results.roles] == [("developer", 2), ("", 1), ("researcher", 1)]
    assert [r["label"] for r in results.roles] == ["Developer / engineer in industry", "Not given", "Researcher"]
    assert [(f["name"], f["n"]) for f in results.frameworks] == [("Keras", 2), ("PyTorch", 1)]
    assert [m["text"] for m in results.missing_faults] == ["Data leakage between splits", "GPU out of memory"]
    assert [(c["code"], c["comment"], c["encountered"]) for c in results.comments] == [
        ("1.1", "rare", True),
        ("2", "seen it twice", True),
    ]


def test_questions_not_asked_have_no_means(answered):
    survey, _ = answered
    survey.ask_severity = False
    results = survey_results(survey)
    assert [r.mean_severity for r in results.rows] == [None] * 4
    assert results.rows[0].mean_effort == 3.33


def test_as_dict(answered):
    survey, cats = answered
    data = survey_results(survey).as_dict()
    assert data["respondents"] == 4
    assert data["in_progress"] == 1
    assert data["rows"][0] == {
        "category": cats["A"].id,
        "position": 1,
        "kind": "node",
        "code": "1",
        "name": "Model",
        "path": ["Model"],
        "level": 1,
        "respondents": 4,
        "yes": 3,
        "no": 1,
        "yes_percent": 75.0,
        "mean_severity": 4.0,
        "mean_effort": 3.33,
    }
    assert data["survey"]["questions"]["severity"] is True
    assert data["background"]["frameworks"] == [{"name": "Keras", "n": 2}, {"name": "PyTorch", "n": 1}]
    assert [m["text"] for m in data["missing_faults"]] == ["Data leakage between splits", "GPU out of memory"]


def test_no_responses(db):
    survey, cats = survey_with_categories(n=2)
    response_start(survey_token=survey.token)  # started, never submitted
    results = survey_results(survey)
    assert not results.has_responses
    assert results.submitted == 0 and results.in_progress == 1
    assert [(r.respondents, r.yes, r.yes_percent, r.mean_severity) for r in results.rows] == [(0, 0, None, None)] * 2
    assert results.missing_faults == [] and results.roles == [] and results.mean_experience is None


@pytest.mark.parametrize("n", [1, 7, 40])
def test_generated_responses(db, n):
    """Respondent i (0-based) says yes to category k iff i % (k + 2) == 0, with severity 1 + i % 5 and
    effort 5 - i % 5; the expected figures are recomputed here from that rule."""
    survey, cats = survey_with_categories(n=3)
    for i in range(n):
        respond(
            survey,
            {
                c: ((True, 1 + i % 5, 5 - i % 5) if i % (k + 2) == 0 else (False, None, None))
                for k, c in enumerate(cats)
            },
        )
    rows = survey_results(survey).rows
    for k, row in enumerate(rows):
        yes = [i for i in range(n) if i % (k + 2) == 0]
        assert row.respondents == n
        assert row.yes == len(yes)
        assert row.yes_percent == round(100 * len(yes) / n, 1)
        assert row.mean_severity == round(sum(1 + i % 5 for i in yes) / len(yes), 2)
        assert row.mean_effort == round(sum(5 - i % 5 for i in yes) / len(yes), 2)
