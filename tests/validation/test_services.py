"""Survey services: creation from the taxonomy (snapshot), opening and closing, and respondents'
answers — validation, save-and-return, once-only submission, closed surveys."""

import pytest

from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tests.factories import member
from validation import services
from validation.models import Answer, Response, ResponseFramework, Survey, SurveyCategory

from .factories import SurveyFactory, small_taxonomy, survey_with_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def tax(team):
    return small_taxonomy(team.project)


def create(team, **kwargs):
    kwargs.setdefault("title", "Faults in DL systems")
    return services.survey_create(project=team.project, user=team.lead, **kwargs)


def names(survey):
    return list(survey.categories.order_by("position").values_list("name", flat=True))


# --- creating surveys ----------------------------------------------------------------------


def test_default_asks_every_inner_category_in_taxonomy_order_with_paths(team, tax):
    survey = create(team, intro="Hello")
    assert survey.status == Survey.Status.DRAFT
    assert names(survey) == ["Model", "Layers", "Hyperparameters", "Training"]
    layers = survey.categories.get(name="Layers")
    assert layers.path == ["Model", "Layers"]
    assert layers.level == 2
    assert layers.code == "1.1"
    assert layers.kind == SurveyCategory.Kind.NODE
    assert layers.source_id == tax["layers"].id
    assert survey.categories.get(name="Model").description == "Faults in the model"
    assert survey.selection == {"levels": "all", "leaves": False}
    assert len(survey.token) >= 32


def test_levels_and_leaves(team, tax):
    assert names(create(team, title="a", levels=[1])) == ["Model", "Training"]
    assert names(create(team, title="b", levels=[2])) == ["Layers", "Hyperparameters"]
    with_leaves = create(team, title="c", include_leaves=True)
    assert names(with_leaves) == ["Model", "Layers", "wrong activation", "Hyperparameters", "Training"]
    leaf = with_leaves.categories.get(kind=SurveyCategory.Kind.LEAF)
    assert leaf.path == ["Model", "Layers", "wrong activation"]
    assert leaf.level == 3
    assert leaf.description == "e.g. softmax for regression"


def test_explicit_choice(team, tax):
    survey = create(team, node_ids=[tax["training"].id, tax["layers"].id], leaf_ids=[tax["leaf"].id])
    assert names(survey) == ["Layers", "wrong activation", "Training"]  # taxonomy order, not the order given
    assert survey.selection == {"manual": True}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"node_ids": [999999]}, "node_ids"),
        ({"leaf_ids": [999999]}, "leaf_ids"),
        ({"node_ids": ["x"]}, "node_ids"),
        ({"node_ids": [], "leaf_ids": []}, "categories"),
        ({"levels": [7]}, "categories"),
        ({"levels": ["two"]}, "levels"),
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_creation_input_names_the_field_and_writes_nothing(team, tax, kwargs, field):
    with pytest.raises(InvalidInput) as exc:
        create(team, **kwargs)
    assert exc.value.field == field
    assert not Survey.objects.exists()
    assert not SurveyCategory.objects.exists()


def test_a_node_of_another_project_is_unknown(team, tax):
    other = small_taxonomy(SurveyFactory().project)
    with pytest.raises(InvalidInput) as exc:
        create(team, node_ids=[other["model"].id])
    assert exc.value.field == "node_ids"


def test_empty_taxonomy_and_duplicate_title(team, tax):
    empty_project_team = team  # same project; a second project without a taxonomy:
    from tests.factories import ProjectFactory

    project = ProjectFactory()
    lead = member(project, lead=True)
    with pytest.raises(InvalidInput, match="no categories yet"):
        services.survey_create(project=project, user=lead, title="t")
    create(empty_project_team)
    with pytest.raises(InvalidInput, match="exists already") as exc:
        create(team)
    assert exc.value.field == "title"
    assert Survey.objects.count() == 1


def test_only_leads_create_and_non_members_do_not_see_the_project(team, tax):
    with pytest.raises(NotAllowed):
        services.survey_create(project=team.project, user=team.moderator, title="t")
    with pytest.raises(NotAllowed):
        services.survey_create(project=team.project, user=team.evaluators[0], title="t")
    outsider = member(SurveyFactory().project, lead=True)
    with pytest.raises(NotFound):
        services.survey_create(project=team.project, user=outsider, title="t")
    assert not Survey.objects.filter(project=team.project).exists()


def test_later_taxonomy_edits_do_not_change_the_snapshot(team, tax):
    survey = create(team)
    tax["layers"].name = "Layer problems"
    tax["layers"].description = "changed"
    tax["layers"].save()
    tax["leaf"].delete()
    tax["hyper"].delete()
    assert names(survey) == ["Model", "Layers", "Hyperparameters", "Training"]
    layers = survey.categories.get(code="1.1")
    assert layers.path == ["Model", "Layers"]


def test_open_close_reopen(team, tax):
    survey = create(team)
    with pytest.raises(Conflict):
        services.survey_close(survey=survey, user=team.lead)
    survey = services.survey_open(survey=survey, user=team.lead)
    assert survey.status == "open" and survey.opened_at
    assert services.survey_open(survey=survey, user=team.lead).status == "open"  # idempotent
    survey = services.survey_close(survey=survey, user=team.lead)
    assert survey.status == "closed" and survey.closed_at
    survey = services.survey_open(survey=survey, user=team.lead)
    assert survey.status == "open" and survey.closed_at is None
    with pytest.raises(NotAllowed):
        services.survey_close(survey=survey, user=team.moderator)
    survey.refresh_from_db()
    assert survey.status == "open"


def test_update_and_delete(team, tax):
    survey = create(team)
    create(team, title="Other")
    survey = services.survey_update(survey=survey, user=team.lead, title="Renamed", intro="New intro")
    survey.refresh_from_db()
    assert (survey.title, survey.intro) == ("Renamed", "New intro")
    with pytest.raises(InvalidInput):
        services.survey_update(survey=survey, user=team.lead, title="Other")
    services.survey_open(survey=survey, user=team.lead)
    services.response_start(survey_token=survey.token)
    with pytest.raises(Conflict, match="close it instead"):
        services.survey_delete(survey=survey, user=team.lead)
    other = Survey.objects.get(title="Other")
    services.survey_delete(survey=other, user=team.lead)
    assert list(Survey.objects.values_list("title", flat=True)) == ["Renamed"]


# --- responses ---------------------------------------------------------------------------


@pytest.fixture
def open_survey(db):
    return survey_with_categories(n=3)


def answer(category, encountered, severity=None, effort=None, comment=""):
    return {
        "category": category.id,
        "encountered": encountered,
        "severity": severity,
        "effort": effort,
        "comment": comment,
    }


def test_start_needs_an_open_survey_and_gives_each_response_its_own_token(open_survey):
    survey, _ = open_survey
    a = services.response_start(survey_token=survey.token)
    b = services.response_start(survey_token=survey.token)
    assert a.token != b.token and len(a.token) >= 32 and a.token != survey.token
    survey.status = Survey.Status.DRAFT
    survey.save()
    with pytest.raises(Conflict, match="not open yet"):
        services.response_start(survey_token=survey.token)
    survey.status = Survey.Status.CLOSED
    survey.save()
    with pytest.raises(Conflict, match="closed"):
        services.response_start(survey_token=survey.token)
    with pytest.raises(NotFound):
        services.response_start(survey_token="nope")
    assert Response.objects.count() == 2


def test_save_progress_then_come_back_and_submit(open_survey):
    survey, (c1, c2, c3) = open_survey
    r = services.response_start(survey_token=survey.token)
    services.response_save(response_token=r.token, answers=[answer(c1, True, 4, 2, "  often  ")])
    services.response_save(response_token=r.token, answers=[answer(c2, "no")])  # c1 untouched
    saved = {a.category_id: a for a in Answer.objects.filter(response=r)}
    assert (saved[c1.id].encountered, saved[c1.id].severity, saved[c1.id].effort, saved[c1.id].comment) == (
        True,
        4,
        2,
        "often",
    )
    assert saved[c2.id].encountered is False and saved[c2.id].severity is None
    r.refresh_from_db()
    assert r.submitted_at is None
    done = services.response_submit(
        response_token=r.token,
        answers=[answer(c3, "yes", "5", "1")],
        background={
            "role": "developer",
            "experience_years": "4",
            "frameworks": ["keras", "Keras", " PyTorch ", "Flax"],
        },
        missing_faults="  Data leakage between splits ",
    )
    assert done.submitted_at is not None
    r.refresh_from_db()
    assert (r.role, r.experience_years, r.missing_faults) == ("developer", 4, "Data leakage between splits")
    assert sorted(ResponseFramework.objects.filter(response=r).values_list("name", flat=True)) == [
        "Flax",
        "Keras",
        "PyTorch",
    ]
    assert Answer.objects.filter(response=r).count() == 3


def test_a_submitted_response_is_final(open_survey):
    survey, cats = open_survey
    r = services.response_start(survey_token=survey.token)
    services.response_submit(response_token=r.token, answers=[answer(c, False) for c in cats])
    first = Response.objects.get(pk=r.pk).submitted_at
    with pytest.raises(Conflict, match="final"):
        services.response_submit(response_token=r.token)
    with pytest.raises(Conflict, match="final"):
        services.response_save(response_token=r.token, answers=[answer(cats[0], True, 5, 5)])
    assert Response.objects.get(pk=r.pk).submitted_at == first
    assert not Answer.objects.filter(response=r, encountered=True).exists()


def test_submit_with_questions_skipped_is_the_respondents_choice(open_survey):
    """Any question may be skipped, on submit too: what was answered counts (issue 13)."""
    survey, (c1, c2, c3) = open_survey
    r = services.response_start(survey_token=survey.token)
    services.response_submit(response_token=r.token, answers=[answer(c1, True, 3)])
    r.refresh_from_db()
    assert r.submitted_at is not None
    saved = Answer.objects.get(response=r)
    assert (saved.category_id, saved.encountered, saved.severity, saved.effort) == (c1.id, True, 3, None)
    empty = services.response_start(survey_token=survey.token)
    assert services.response_submit(response_token=empty.token).submitted_at is not None


def test_study_scales_take_labels_or_positions(team):
    small_taxonomy(team.project)
    survey = services.survey_create(project=team.project, user=team.lead, title="Study scales")
    assert (survey.severity_scale, survey.effort_scale) == (["Minor", "Major", "Critical"], ["Low", "Medium", "High"])
    services.survey_open(survey=survey, user=team.lead)
    c1, c2 = list(survey.categories.order_by("position"))[:2]
    r = services.response_start(survey_token=survey.token)
    services.response_save(
        response_token=r.token,
        answers=[{"category": c1.id, "encountered": "yes", "severity": "major", "effort": 3}],
    )
    saved = Answer.objects.get(response=r, category=c1)
    assert (saved.severity, saved.effort) == (2, 3)
    with pytest.raises(services.SurveyInputError) as exc:
        services.response_save(
            response_token=r.token, answers=[{"category": c2.id, "encountered": True, "severity": 4}]
        )
    assert exc.value.problems[f"answers.{c2.id}.severity"] == [
        f"{c2.display_name}: the severity is one of Minor, Major, Critical."
    ]


@pytest.mark.parametrize(
    ("scale", "expected"),
    [("numeric", ["1", "2", "3", "4", "5"]), ("Rare, Often", ["Rare", "Often"]), (["a", "b", "c"], ["a", "b", "c"])],
)
def test_configurable_scales(team, scale, expected):
    small_taxonomy(team.project)
    survey = services.survey_create(project=team.project, user=team.lead, title="S", severity_scale=scale)
    assert survey.severity_scale == expected and survey.effort_scale == ["Low", "Medium", "High"]


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        (["only"], "2 to 5 levels"),
        (list("abcdef"), "2 to 5 levels"),
        (["a", "A"], "must differ"),
        (["Yes", "No"], "not yes or no"),
        (3, "list of labels"),
    ],
)
def test_bad_scales_are_refused(team, scale, message):
    small_taxonomy(team.project)
    with pytest.raises(InvalidInput, match=message):
        services.survey_create(project=team.project, user=team.lead, title="S", effort_scale=scale)


def test_ratings_need_no_answer_when_the_survey_does_not_ask_them(db):
    survey, cats = survey_with_categories(n=2, ask_severity=False, ask_effort=False)
    r = services.response_start(survey_token=survey.token)
    services.response_submit(response_token=r.token, answers=[answer(cats[0], True), answer(cats[1], False)])
    assert Response.objects.get(pk=r.pk).submitted_at


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"encountered": False, "severity": 3}, "severity", "only for a fault you encountered"),
        ({"encountered": None, "effort": 2}, "effort", "only for a fault you encountered"),
        ({"encountered": True, "severity": 6}, "severity", "from 1 to 5"),
        ({"encountered": True, "severity": 0}, "severity", "from 1 to 5"),
        ({"encountered": True, "effort": "a lot"}, "effort", "from 1 to 5"),
        ({"encountered": True, "effort": 2.5}, "effort", "from 1 to 5"),
        ({"encountered": True, "severity": True}, "severity", "from 1 to 5"),
        ({"encountered": "maybe"}, "encountered", "yes or no"),
        ({"encountered": None, "comment": "hm"}, "encountered", "before commenting"),
        ({"encountered": True, "comment": "x" * 2001}, "comment", "at most 2000"),
    ],
)
def test_bad_answers_are_refused_naming_the_category(open_survey, given, field, message):
    survey, (c1, c2, _) = open_survey
    r = services.response_start(survey_token=survey.token)
    with pytest.raises(services.SurveyInputError) as exc:
        services.response_save(response_token=r.token, answers=[{"category": c1.id, **given}, answer(c2, True, 1, 1)])
    assert f"answers.{c1.id}.{field}" in exc.value.problems
    assert message in exc.value.problems[f"answers.{c1.id}.{field}"][0]
    assert c1.name in exc.value.problems[f"answers.{c1.id}.{field}"][0]
    assert not Answer.objects.exists()


def test_questions_the_survey_does_not_ask_are_refused(db):
    survey, (c1,) = survey_with_categories(
        n=1, ask_severity=False, ask_comment=False, ask_background=False, ask_missing=False
    )
    r = services.response_start(survey_token=survey.token)
    with pytest.raises(services.SurveyInputError) as exc:
        services.response_save(
            response_token=r.token,
            answers=[answer(c1, True, 3, 3, "a comment")],
            background={"role": "student"},
            missing_faults="something",
        )
    assert set(exc.value.problems) == {
        f"answers.{c1.id}.severity",
        f"answers.{c1.id}.comment",
        "background",
        "missing_faults",
    }


def test_unknown_categories_and_bad_shapes(open_survey):
    survey, (c1, *_) = open_survey
    other_survey, (foreign,) = survey_with_categories(n=1)
    r = services.response_start(survey_token=survey.token)
    with pytest.raises(services.SurveyInputError) as exc:
        services.response_save(
            response_token=r.token,
            answers=[answer(foreign, True, 1, 1), "junk", answer(c1, False), answer(c1, True, 1, 1)],
        )
    assert set(exc.value.problems) == {"answers[0].category", "answers[1]", f"answers.{c1.id}.category"}
    with pytest.raises(services.SurveyInputError) as exc:
        services.response_save(response_token=r.token, answers="yes to all")
    assert "answers" in exc.value.problems
    with pytest.raises(services.SurveyInputError) as exc:
        services.response_save(
            response_token=r.token, background={"role": "wizard", "experience_years": 99, "frameworks": [1]}
        )
    assert set(exc.value.problems) == {"role", "experience_years", "frameworks"}
    with pytest.raises(NotFound):
        services.response_save(response_token="not-a-token")
    assert not Answer.objects.exists()


def test_clearing_an_answer(open_survey):
    survey, (c1, *_) = open_survey
    r = services.response_start(survey_token=survey.token)
    services.response_save(response_token=r.token, answers={c1.id: {"encountered": True, "severity": 2}})
    assert Answer.objects.filter(response=r).count() == 1
    services.response_save(response_token=r.token, answers={c1.id: {"encountered": ""}})
    assert not Answer.objects.filter(response=r).exists()


def test_a_closed_survey_refuses_answers_with_a_clear_message(open_survey):
    survey, (c1, *_) = open_survey
    r = services.response_start(survey_token=survey.token)
    services.response_save(response_token=r.token, answers=[answer(c1, True, 1, 1)])
    survey.status = Survey.Status.CLOSED
    survey.save()
    with pytest.raises(Conflict) as exc:
        services.response_save(response_token=r.token, answers=[answer(c1, False)])
    assert exc.value.message == "This survey is closed; it no longer accepts answers."
    assert exc.value.status_code == 409
    with pytest.raises(Conflict):
        services.response_submit(response_token=r.token)
    assert Answer.objects.get(response=r).encountered is True
    assert Response.objects.get(pk=r.pk).submitted_at is None
