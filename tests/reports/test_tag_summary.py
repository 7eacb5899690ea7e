"""The interview tag summary: per tag NN+MM, accepted and removed; tags joining no leaf last; downloads."""

import csv
import io
import json

import openpyxl
import pytest
from django.urls import reverse

from interviews.models import FinalTag, Interview, Piece
from reports.tag_summary import tag_summary
from tests.factories import LeafFactory, NodeFactory

pytestmark = pytest.mark.django_db


def final(interview, position, text, status):
    piece = Piece.objects.create(interview=interview, position=position)
    return FinalTag.objects.create(piece=piece, interview=interview, text=text, normalised=text.lower(), status=status)


@pytest.fixture
def tagged(team):
    node = NodeFactory(project=team.project, name="Training", code="5")
    LeafFactory(node=node, label__name="suboptimal learning rate")
    one = Interview.objects.create(project=team.project, number=1)
    two = Interview.objects.create(project=team.project, number=2)
    final(one, 1, "suboptimal learning rate", FinalTag.Status.ACCEPTED)
    final(two, 1, "suboptimal learning rate", FinalTag.Status.ACCEPTED)
    final(two, 2, "suboptimal learning rate", FinalTag.Status.REMOVED)
    final(one, 2, "overlapping output classes", FinalTag.Status.REMOVED)
    final(one, 3, "pending one", FinalTag.Status.PENDING)
    return team


def test_rows(tagged):
    rows = tag_summary(tagged.project)
    assert [(r["code"], r["tag"], r["count"], r["accepted"], r["removed"]) for r in rows] == [
        ("5", "suboptimal learning rate", "0+2", 2, 1),
        ("", "overlapping output classes", "0+0", 0, 1),
    ]


def test_page_and_downloads(client, tagged):
    client.force_login(tagged.evaluators[0])
    url = reverse("reports:tag_summary", args=[tagged.project.slug])
    page = client.get(url).content.decode()
    assert "suboptimal learning rate" in page and "0+2" in page
    lines = list(csv.reader(io.StringIO(client.get(url, {"format": "csv"}).content.decode())))
    assert lines[0][:3] == ["Code", "Tag", "Count (NN+MM)"] and lines[1][1:3] == ["suboptimal learning rate", "0+2"]
    assert json.loads(client.get(url, {"format": "json"}).content)["rows"][1]["removed"] == 1
    book = openpyxl.load_workbook(io.BytesIO(client.get(url, {"format": "xlsx"}).content))
    assert book.active["B2"].value == "suboptimal learning rate"
    assert "| suboptimal learning rate |" in client.get(url, {"format": "markdown"}).content.decode()
    assert client.get(url, {"format": "pdf"}).status_code == 404
