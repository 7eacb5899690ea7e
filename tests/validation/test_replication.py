"""A survey of the study's published taxonomy (the outline in the replication package, read in
place): every inner category asked, in the outline's order, at the depth its code gives."""

import csv

import pytest

from taxonomy import services as taxonomy_services
from validation import services
from validation.selectors import survey_results

from .factories import respond

pytestmark = pytest.mark.django_db


def test_survey_of_the_study_taxonomy(team, replication_dir):
    path = replication_dir / "taxonomy_outline.csv"
    outline = [row for row in csv.DictReader(path.open(encoding="utf-8")) if row["code"].strip()]
    taxonomy_services.taxonomy_import_outline(
        project=team.project, user=team.lead, data=path.read_bytes(), filename=path.name
    )
    survey = services.survey_create(project=team.project, user=team.lead, title="Validation")
    categories = list(survey.categories.order_by("position"))
    assert [(c.code, c.name) for c in categories] == [(r["code"].strip(), r["name"].strip()) for r in outline]
    assert [c.level for c in categories] == [r["code"].strip().count(".") + 1 for r in outline]
    by_code = {c.code: c for c in categories}
    for c in categories:
        if c.level > 1:
            parent = by_code[c.code.rsplit(".", 1)[0]]
            assert c.path == [*parent.path, c.name]
    top = [c for c in categories if c.level == 1]
    survey_top = services.survey_create(project=team.project, user=team.lead, title="Top level", levels=[1])
    assert list(survey_top.categories.values_list("code", flat=True)) == [c.code for c in top]

    # every respondent met the first top-level category, none the others
    for _ in range(3):
        respond(survey, {c: ((True, 3, 3) if c == top[0] else (False, None, None)) for c in categories})
    rows = {r.code: r for r in survey_results(survey).rows}
    assert rows[top[0].code].yes_percent == 100.0
    assert all(rows[c.code].yes_percent == 0.0 for c in categories if c != top[0])
