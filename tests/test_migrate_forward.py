"""An existing database migrates forward with nothing lost.

A database is built with the code as it was before the apps were split by domain (its own migrations,
taken from git), filled with the demo, an imported round and an interview coding sheet, and read:
Table 1 (with its interviews row), the taxonomy as JSON (with its NN+MM counts) and the interview
figures. The current code then migrates the same database and must read the same figures, see the
same rows and keep the content types of the models that changed app."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "b107303"  # main before `core`, `collection` and `reports` existed
COUNTED = [
    "labelling_project",
    "labelling_membership",
    "labelling_artefact",
    "labelling_label",
    "labelling_round",
    "labelling_rounditem",
    "labelling_assignment",
    "labelling_annotation",
    "labelling_job",
    "taxonomy_node",
    "taxonomy_leaf",
    "interviews_interview",
    "interviews_piece",
    "interviews_finaltag",
]


def run(tree: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=tree, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{' '.join(args)} in {tree}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def figures(tree: Path, env: dict) -> dict:
    return {
        "table1": json.loads(run(tree, env, "round_stats", "demo", "--format", "json")),
        "taxonomy": json.loads(run(tree, env, "export_taxonomy", "demo", "--format", "json")),
    }


def counts(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        return {t: connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in COUNTED}


@pytest.fixture
def old_tree(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    probe = subprocess.run(["git", "cat-file", "-e", BEFORE], cwd=ROOT, capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"commit {BEFORE} is not in this clone's history (a shallow clone?)")
    tree = tmp_path / "before"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", BEFORE], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def test_a_database_of_the_previous_layout_migrates_forward_with_nothing_lost(old_tree, tmp_path, replication_dir):
    db = tmp_path / "concord.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "REDIS_URL": "",
        "CONCORD_SHARED_DIR": str(replication_dir.parent),
        "DJANGO_SETTINGS_MODULE": "concord.settings",
    }
    run(old_tree, env, "migrate", "--noinput")
    run(old_tree, env, "load_demo")
    sheet = replication_dir / "interviews" / "interview_open_coding_1-3.xlsx"
    run(old_tree, env, "import_interview_coding", "demo", str(sheet))
    before, rows_before = figures(old_tree, env), counts(db)
    assert before["table1"]["rows"][-1]["round"] == "total"  # the interviews row is there
    assert rows_before["interviews_finaltag"] > 0 and rows_before["labelling_annotation"] > 0

    run(ROOT, env, "migrate", "--noinput")
    after, rows_after = figures(ROOT, env), counts(db)
    assert after == before
    assert rows_after == rows_before
    run(ROOT, env, "makemigrations", "--check", "--dry-run")  # the models match the migrated state
    with sqlite3.connect(db) as connection:
        labels = dict(connection.execute("SELECT model, app_label FROM django_content_type").fetchall())
    assert labels["project"] == "core" and labels["membership"] == "core" and labels["job"] == "core"
    assert labels["artefact"] == "collection" and labels["vocabularyterm"] == "collection"
    assert labels["round"] == "labelling" and labels["interview"] == "interviews"
