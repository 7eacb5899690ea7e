"""Table 1: figures, nulls, subtotal/interviews/total, formats, the command and the page."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import tables
from labelling import services
from labelling.models import Assignment
from reports import table1 as stats
from taxonomy.round_import import round_import_file
from tests.factories import ArtefactFactory, member
from tests.interviews.factories import upload

from . import roundsheets

pytestmark = pytest.mark.django_db


def import_fixture(project, replication_dir, n):
    return round_import_file(
        project=project,
        data=(replication_dir / f"round_{n}.xlsx").read_bytes(),
        filename=f"round_{n}.xlsx",
        number=n,
        outline_data=(replication_dir / "taxonomy_outline.csv").read_bytes(),
        outline_name="taxonomy_outline.csv",
    )


@pytest.fixture
def study(project, replication_dir):
    import_fixture(project, replication_dir, 1)
    import_fixture(project, replication_dir, 2)
    return project


def test_table1_of_the_study_rounds(study):
    # Round 1: Tag1 and Tag2 differ in 10 rows; relevant codes 4.1, 4.2.1, 3, 1.2.2, 5.3 open
    # 1, 3, 4, 5 / 1.2, 4.1, 4.2, 5.3 / 1.2.2, 4.2.1. Round 2 adds 2 / 5.1, 5.4 / 4.2.3, 1.2.1, 5.4.2 and
    # 14 new leaves (one of its 16 leaves is round 1's, one repeats within the round).
    assert stats.table1(study) == {
        "rows": [
            {
                "round": "1",
                "analysed": 29,
                "disagreements": 10,
                "conflicts": 3,
                "relevant": 5,
                "new_inner": [4, 4, 2],
                "new_leaves": 5,
            },
            {
                "round": "2",
                "analysed": 110,
                "disagreements": None,
                "conflicts": 11,
                "relevant": 16,
                "new_inner": [1, 2, 3],
                "new_leaves": 14,
            },
            {
                "round": "subtotal",
                "analysed": 139,
                "disagreements": 10,
                "conflicts": 14,
                "relevant": 21,
                "new_inner": [5, 6, 5],
                "new_leaves": 19,
            },
        ]
    }


def test_interview_row_plugs_in_and_total_adds_it(study, monkeypatch):
    def interview_row(project):
        return {"analysed": 3, "relevant": 12, "new_inner": [0, 1], "new_leaves": 4, "final": 92, "removed": 5}

    monkeypatch.setattr(stats, "ROW_PROVIDERS", [interview_row])
    rows = stats.table1(study)["rows"]
    assert [r["round"] for r in rows] == ["1", "2", "subtotal", "interviews", "total"]
    interviews, total = rows[3], rows[4]
    assert interviews == {
        "round": "interviews",
        "analysed": 3,
        "disagreements": None,
        "conflicts": None,
        "relevant": 12,
        "new_inner": [0, 1, 0],
        "new_leaves": 4,
        "final": 92,
        "removed": 5,
    }
    assert total == {
        "round": "total",
        "analysed": 142,
        "disagreements": 10,
        "conflicts": 14,
        "relevant": 33,
        "new_inner": [5, 7, 5],
        "new_leaves": 23,
    }
    assert ("final", "Final") in stats.columns({"rows": rows})


def test_the_interviews_row_comes_from_the_interviews_app(team):
    upload(team.project, team.lead)
    rows = stats.table1(team.project)["rows"]
    assert [r["round"] for r in rows] == ["subtotal", "interviews", "total"]


def test_no_rounds_means_nothing_recorded(project):
    assert stats.table1(project) == {
        "rows": [
            {
                "round": "subtotal",
                "analysed": None,
                "disagreements": None,
                "conflicts": None,
                "relevant": None,
                "new_inner": None,
                "new_leaves": None,
            }
        ]
    }


def test_a_round_labelled_in_concord(team, django_capture_on_commit_callbacks):
    artefacts = ArtefactFactory.create_batch(3, project=team.project)
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators[:2]],
        artefact_ids=[a.id for a in artefacts],
    )
    items = list(rnd.items.order_by("id"))
    for item, (first, second) in zip(items[:2], [("wrong loss", "wrong loss"), ("a", "b")], strict=True):
        a1, a2 = Assignment.objects.filter(item=item).order_by("order")
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label=first)
        with django_capture_on_commit_callbacks(execute=True):
            services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label=second)
    row = stats.table1(team.project)["rows"][0]
    # the agreed item is analysed; the disagreed one waits for its third evaluator; the third is untouched
    assert row == {
        "round": str(rnd.number),
        "analysed": 1,
        "disagreements": 1,
        "conflicts": 0,
        "relevant": 1,
        "new_inner": [],
        "new_leaves": 0,
    }


def test_queries_stay_flat_as_rounds_grow(project):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            stats.table1(project)
        return len(ctx.captured_queries)

    round_import_file(project=project, data=roundsheets.build(), filename="r.xlsx", number=1)
    few = count()
    for n in range(2, 7):
        rows = [dict(r, link=r["link"] + f"?r={n}") for r in roundsheets.ROWS]
        round_import_file(project=project, data=roundsheets.build(rows=rows), filename="r.xlsx", number=n)
    assert count() == few


def test_formats(study):
    table = stats.table1(study)
    text = stats.render_csv(table)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0][:5] == ["Round", "Analysed", "Disagreements", "Conflicts", "Relevant"]
    assert parsed[0][5:] == [
        "New inner (first level)",
        "New inner (second level)",
        "New inner (third level)",
        "New leaves",
    ]
    assert parsed[2] == ["Round 2", "110", "", "11", "16", "1", "2", "3", "14"]
    latex = stats.render_latex(table)
    assert "\\toprule" in latex and "\\midrule" in latex and "\\bottomrule" in latex
    assert "Round 2 & 110 & -- & 11 & 16 & 1 & 2 & 3 & 14 \\\\" in latex
    markdown = stats.render_markdown(table).splitlines()
    assert markdown[0].startswith("| Round | Analysed |") and markdown[1].startswith("|:---|---:|")
    assert markdown[3] == "| Round 2 | 110 | – | 11 | 16 | 1 | 2 | 3 | 14 |"
    sheet = openpyxl.load_workbook(io.BytesIO(stats.render_xlsx(table))).active
    assert [c.value for c in sheet[3]] == ["Round 2", 110, None, 11, 16, 1, 2, 3, 14]
    assert "Subtotal" in stats.render_text(table)


def test_latex_escapes():
    assert tables.latex_escape("a_b & 50% #1 {x}") == r"a\_b \& 50\% \#1 \{x\}"


@pytest.mark.parametrize("fmt", ["json", "csv", "latex", "markdown", "table"])
def test_round_stats_command(study, capsys, fmt):
    call_command("round_stats", study.slug, "--format", fmt)
    out, _ = capsys.readouterr()
    if fmt == "json":
        assert json.loads(out) == stats.table1(study)
    else:
        assert "110" in out


def test_round_stats_command_xlsx_needs_output(study, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--output"):
        call_command("round_stats", study.slug, "--format", "xlsx")
    target = tmp_path / "t.xlsx"
    call_command("round_stats", study.slug, "--format", "xlsx", "--output", str(target))
    assert openpyxl.load_workbook(target).active["A2"].value == "Round 1"


# --- the page ---------------------------------------------------------------------------------


def test_stats_page_for_members(study, client):
    evaluator = member(study, evaluator=True, username="eve")
    client.force_login(evaluator)
    url = reverse("reports:stats", args=[study.slug])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "polyline" in html and "Cumulative inner and leaf categories" in html
    assert 'title="never recorded"' in html  # round 2's disagreements
    assert "stats-exports" not in html  # exports are for leads
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="stats-table">')


@pytest.mark.parametrize(
    "fmt,content_type",
    [
        ("csv", "text/csv"),
        ("xlsx", "application/vnd.openxmlformats"),
        ("latex", "application/x-latex"),
        ("markdown", "text/markdown"),
        ("json", "application/json"),
    ],
)
def test_stats_downloads(study, client, fmt, content_type):
    client.force_login(member(study, lead=True, username="lead"))
    response = client.get(reverse("reports:stats", args=[study.slug]), {"format": fmt})
    assert response.status_code == 200 and response["Content-Type"].startswith(content_type)
    assert "attachment" in response["Content-Disposition"]
    if fmt == "json":
        assert json.loads(response.content) == stats.table1(study)


def test_stats_page_bad_format_and_outsiders(study, client):
    lead = member(study, lead=True, username="lead")
    client.force_login(lead)
    url = reverse("reports:stats", args=[study.slug])
    assert client.get(url, {"format": "pdf"}).status_code == 400
    outsider = member(ArtefactFactory().project, lead=True, username="outsider")
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_stats_page_empty_state(project, client):
    client.force_login(member(project, lead=True, username="lead"))
    response = client.get(reverse("reports:stats", args=[project.slug]))
    assert response.status_code == 200 and "No rounds yet" in response.content.decode()


def test_stats_page_queries_flat(project, client, django_assert_max_num_queries):
    client.force_login(member(project, lead=True, username="lead"))
    url = reverse("reports:stats", args=[project.slug])
    round_import_file(project=project, data=roundsheets.build(), filename="r.xlsx", number=1)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    few = len(ctx.captured_queries)
    for n in range(2, 6):
        rows = [dict(r, link=r["link"] + f"?r={n}") for r in roundsheets.ROWS]
        round_import_file(project=project, data=roundsheets.build(rows=rows), filename="r.xlsx", number=n)
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200


def test_an_extra_rows_undocumented_keys_stay_out_of_the_json(project, monkeypatch):
    monkeypatch.setattr(
        stats,
        "ROW_PROVIDERS",
        [lambda p: {"analysed": 2, "final": 1, "removed": 0, "unmapped": 3, "final_per_interview": {"min": 0}}],
    )
    interviews = stats.table1(project)["rows"][1]
    assert set(interviews) == {"round", *stats.FIGURES, "new_inner", "new_leaves", "final", "removed"}
