"""`make test` refuses a change that breaks the layout: an import pointing up or sideways between apps
(import-linter), an import inside a function outside Celery tasks (ruff PLC0415), complexity above 15
(ruff C901). Each probe writes a small module into an app, runs the checker `make test` runs, and
removes the module again."""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def probe():
    written: list[Path] = []

    def write(app: str, source: str) -> Path:
        path = ROOT / app / f"_probe_{uuid.uuid4().hex[:8]}.py"
        path.write_text(source)
        written.append(path)
        return path

    yield write
    for path in written:
        path.unlink(missing_ok=True)


def lint_imports() -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def ruff(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", str(path.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_contracts():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("app", "target"),
    [
        ("core", "labelling.models"),  # up
        ("collection", "taxonomy.models"),  # up
        ("interviews", "validation.models"),  # sideways
    ],
)
def test_an_import_up_or_sideways_breaks_the_build(probe, app, target):
    probe(app, f"import {target}  # noqa: F401\n")
    result = lint_imports()
    assert result.returncode != 0
    assert f"{app} is not allowed to import" in result.stdout


def test_an_import_up_inside_an_app_breaks_the_build():
    models = ROOT / "labelling" / "models.py"
    original = models.read_text()
    try:
        models.write_text(original + "\nfrom labelling import selectors  # noqa: E402,F401\n")
        result = lint_imports()
    finally:
        models.write_text(original)
    assert result.returncode != 0
    assert "labelling.models is not allowed to import labelling.selectors" in result.stdout


def test_an_import_inside_a_function_breaks_the_build_outside_tasks(probe):
    source = "def f():\n    import json\n\n    return json.dumps(1)\n"
    result = ruff(probe("labelling", source))
    assert result.returncode != 0 and "PLC0415" in result.stdout


def test_complexity_above_15_breaks_the_build(probe):
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(16))
    result = ruff(probe("core", f"def f(x):\n{branches}    return -1\n"))
    assert result.returncode != 0 and "C901" in result.stdout
    result = ruff(
        probe(
            "core",
            "def g(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(13)) + "    return -1\n",
        )
    )
    assert result.returncode == 0, result.stdout
