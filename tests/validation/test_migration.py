"""Surveys made before scales existed keep their 1–5 scale and their answers through the migration;
surveys made after it get the study's scales."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.models import Project

BEFORE = [("validation", "0002_project_in_core")]
AFTER = [("validation", "0003_scales_imports_participants")]


@pytest.fixture
def back_to_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_surveys_keep_their_numeric_scale_and_answers(back_to_latest):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    # Only the survey's tables went back: the project is written with today's model (core kept its fields).
    old_project = Project.objects.create(name="Old", slug="old")
    survey = old.get_model("validation", "Survey").objects.create(
        project_id=old_project.pk, title="Before scales", token="t" * 32
    )
    category = old.get_model("validation", "SurveyCategory").objects.create(survey=survey, position=1, name="Layers")
    response = old.get_model("validation", "Response").objects.create(survey=survey, token="r" * 32)
    old.get_model("validation", "Answer").objects.create(
        response=response, category=category, encountered=True, severity=5, effort=4
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Survey = new.get_model("validation", "Survey")
    migrated = Survey.objects.get(pk=survey.pk)
    assert migrated.severity_scale == ["1", "2", "3", "4", "5"] == migrated.effort_scale
    answer = new.get_model("validation", "Answer").objects.get()
    assert (answer.encountered, answer.severity, answer.effort) == (True, 5, 4)
    assert new.get_model("validation", "Response").objects.get().external_id == ""
    fresh = Survey.objects.create(project_id=old_project.pk, title="After scales", token="u" * 32)
    assert fresh.severity_scale == ["Minor", "Major", "Critical"] and fresh.effort_scale == ["Low", "Medium", "High"]
