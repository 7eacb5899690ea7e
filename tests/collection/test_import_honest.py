"""import_artefacts: malformed CSV lines reported and kept or skipped, --framework, --fetch, failures create nothing."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collection.models import Artefact
from core.models import Project
from tests.collection.mining.fakeapi import FakeApi

pytestmark = pytest.mark.django_db

SO_LIST = (
    "url,title\n"
    "https://stackoverflow.com/questions/1,Plain title\n"
    "https://stackoverflow.com/questions/2,Loss < 0.5, accuracy > 0.9\n"
    'https://stackoverflow.com/questions/3,"never closed\n'
    "https://stackoverflow.com/questions/4,After the bad line\n"
)


def _import(tmp_path, text, slug="so", **options):
    path = tmp_path / "so_list.csv"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_artefacts", slug, str(path), stdout=out, stderr=err, **options)
    return json.loads(out.getvalue()), err.getvalue()


def titles(slug="so"):
    return dict(Artefact.objects.filter(project__slug=slug).values_list("url", "title"))


def test_kept_whole_and_reported(tmp_path):
    report, err = _import(tmp_path, SO_LIST, framework="keras")
    got = titles()
    assert got["https://stackoverflow.com/questions/2"] == "Loss < 0.5, accuracy > 0.9"  # not cut to its first cell
    assert got["https://stackoverflow.com/questions/3"] == '"never closed'
    assert got["https://stackoverflow.com/questions/4"] == "After the bad line"  # not swallowed by the quote
    assert [(m["line"], m["reason"].split(";")[1]) for m in report["malformed_lines"]] == [
        (3, " kept whole"),
        (4, " kept whole"),
    ]
    assert "never closed" in report["malformed_lines"][1]["reason"]
    assert "malformed line 3" in err and "malformed line 4" in err
    assert set(Artefact.objects.values_list("framework", flat=True)) == {"keras"}


def test_skipped_when_asked(tmp_path):
    report, _ = _import(tmp_path, SO_LIST, malformed="skip")
    assert sorted(titles()) == ["https://stackoverflow.com/questions/1", "https://stackoverflow.com/questions/4"]
    assert [m["line"] for m in report["malformed_lines"]] == [3, 4]
    assert all(m["reason"].endswith("skipped") for m in report["malformed_lines"])


def test_error_mode_fails_and_creates_nothing(tmp_path):
    err = io.StringIO()
    with pytest.raises(CommandError, match="line 4"):
        path = tmp_path / "so.csv"
        path.write_text(SO_LIST)
        call_command("import_artefacts", "fresh", str(path), malformed="error", stdout=io.StringIO(), stderr=err)
    assert not Project.objects.filter(slug="fresh").exists()
    assert "Created project" not in err.getvalue()
    with pytest.raises(CommandError, match="line 3"):
        _import(tmp_path, SO_LIST.replace('"never closed', "closed"), slug="fresh", malformed="error")
    with pytest.raises(CommandError, match="beyond the last column"):  # any delimiter: the row check
        _import(tmp_path, SO_LIST.replace(",", ";").replace('"never closed', "x"), slug="fresh", malformed="error")
    assert not Project.objects.filter(slug="fresh").exists()


def test_framework_does_not_override_the_entity_type(tmp_path):
    _import(tmp_path, "Link,EntityType\nhttps://stackoverflow.com/questions/9,so-pytorch\n", framework="keras")
    assert Artefact.objects.get().framework == "pytorch"


def test_fetch_fills_link_only_artefacts(tmp_path, monkeypatch):
    with FakeApi() as api:
        question = {
            "question_id": 11,
            "title": "Why &quot;NaN&quot;?",
            "body": "<p>b<img src=x></p>",
            "tags": ["keras"],
        }
        api.route("/2.3/questions/11", lambda r: (200, {}, {"items": [question], "has_more": False}))
        api.route("/repos/o/r/issues/7", lambda r: (200, {}, {"title": "Crash", "body": "trace", "state": "open"}))
        api.route(
            "/repos/o/r/commits/abc123",
            lambda r: (200, {}, {"sha": "abc123", "commit": {"message": "Fix bug\n\nmore"}}),
        )
        monkeypatch.setenv("STACKEXCHANGE_API_URL", api.url + "/2.3")
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        text = "url\nhttps://stackoverflow.com/questions/11\nhttps://github.com/o/r/issues/7\nhttps://github.com/o/r/commit/abc123\n"
        report, _ = _import(tmp_path, text, fetch=True)
    assert report["fetched"] == {"link_only": 3, "filled": 3}
    so = Artefact.objects.get(url="https://stackoverflow.com/questions/11")
    assert so.title == 'Why "NaN"?' and "<img" not in so.body and so.tags == ["keras"]
    assert titles()["https://github.com/o/r/issues/7"] == "Crash"
    assert Artefact.objects.get(url="https://github.com/o/r/commit/abc123").body == "Fix bug\n\nmore"


def test_failed_fetch_creates_nothing(tmp_path, monkeypatch):
    with FakeApi() as api:
        api.route("/repos/o/r/issues/7", lambda r: (404, {}, {"message": "Not Found"}))
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        with pytest.raises(CommandError, match="Not Found"):
            _import(tmp_path, "url\nhttps://github.com/o/r/issues/7\n", slug="nofetch", fetch=True)
    assert not Project.objects.filter(slug="nofetch").exists()
