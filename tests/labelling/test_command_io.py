"""What the import/export commands share (labelling/management/commands/_io.py)."""

import io

import pytest
from django.core.management import CommandError, call_command

from core.models import Project


@pytest.mark.parametrize(
    "command, extra",
    [
        ("round_stats", []),
        ("survey_results", []),
        ("export_round", ["--round", "1"]),
        ("export_annotations", []),
        ("export_taxonomy", []),
        ("export_interview_coding", []),
    ],
)
def test_reading_commands_name_a_missing_project(db, command, extra):
    with pytest.raises(CommandError, match="No project 'nowhere'"):
        call_command(command, "nowhere", *extra, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.parametrize("command", ["import_outline", "import_taxonomy", "import_interview_coding"])
def test_importing_commands_create_nothing_on_a_bad_file(db, tmp_path, command):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    with pytest.raises(CommandError, match="(?i)file.*empty"):
        call_command(command, "fresh", str(bad), "--lead", "alice", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Project.objects.filter(slug="fresh").exists()
