"""Double clicks and simultaneous imports on PostgreSQL: the second of two identical writes that create
a numbered row (an interview, an imported round) waits for the first and gets a clear answer, never
an IntegrityError (a 500, or a job failed with "Unexpected error")."""

import io

import openpyxl
import pytest
from django.db import connection

from core.errors import Conflict
from interviews import services as interview_services
from interviews.models import Interview
from labelling.models import Round
from taxonomy.round_import import round_import_file
from tests.helpers import in_threads
from tests.interviews.factories import transcript_txt
from tests.labelling.roundsheets import build

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")


def _sheet(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_same_transcript_uploaded_twice_at_once(team):
    def upload():
        return interview_services.interview_create(
            project=team.project, user=team.lead, filename="interview7.txt", data=transcript_txt()
        )

    results = in_threads(upload, upload, together=True, expected=(Conflict,))
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Interview"]
    assert Interview.objects.filter(project=team.project, number=7).count() == 1


def test_two_transcripts_without_numbers_at_once_get_the_next_two_numbers(team):
    def upload():
        return interview_services.interview_create(
            project=team.project, user=team.lead, filename="talk.txt", data=transcript_txt()
        )

    in_threads(upload, upload, together=True)
    assert sorted(Interview.objects.filter(project=team.project).values_list("number", flat=True)) == [1, 2]


def test_the_same_coding_sheet_imported_twice_at_once(team):
    data = _sheet(
        [
            ["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"],
            [3, "lr", "lr", "learning rate", "learning rate", "A"],
        ]
    )

    def run():
        return interview_services.coding_sheet_import(
            project=team.project, user=team.lead, filename="s.xlsx", data=data
        )

    in_threads(run, run, together=True)
    assert Interview.objects.filter(project=team.project, number=3).count() == 1


def test_the_same_round_imported_twice_at_once(team):
    data = build("xlsx")

    def run():
        return round_import_file(project=team.project, data=data, filename="round.xlsx", number=1, user=team.lead)

    in_threads(run, run, together=True)
    assert Round.objects.filter(project=team.project, number=1).count() == 1
