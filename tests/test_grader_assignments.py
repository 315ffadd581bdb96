"""Checks every homework in homework/source must pass: the release is in sync, the solutions
score full marks and the blank release scores 0, failing only at NotImplementedError."""

from pathlib import Path

import nbformat
import pytest

from grader import assignment, batch, feedback, release, settings

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "homework" / "source"
RELEASE = ROOT / "homework" / "release"
ASSIGNMENTS = sorted(folder.name for folder in SOURCE.iterdir() if (folder / f"{folder.name}.ipynb").is_file())


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def graded_pair(request, tmp_path_factory):
    """Grade the source notebook and the committed release of one assignment in one batch."""
    name = request.param
    prepared = assignment.prepare(SOURCE, name)
    submissions = tmp_path_factory.mktemp(f"{name}-submissions")
    (submissions / "solutions.ipynb").write_bytes((SOURCE / name / f"{name}.ipynb").read_bytes())
    (submissions / "blank.ipynb").write_bytes((RELEASE / name / f"{name}.ipynb").read_bytes())
    output = tmp_path_factory.mktemp(f"{name}-graded")
    _, results = batch.autograde_folder(prepared, submissions, output, settings.Limits(cell_timeout=60))
    return {"prepared": prepared, "results": {r["student"]: r for r in results}, "output": output}


def test_assignments_found():
    assert "hw1" in ASSIGNMENTS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_in_sync_with_source(name):
    states = release.release(assignment.prepare(SOURCE, name), RELEASE, check=True)
    assert states == [(RELEASE / name / f"{name}.ipynb", "unchanged")]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_hides_tests_and_solutions(name):
    prepared = assignment.prepare(SOURCE, name)
    text = (RELEASE / name / f"{name}.ipynb").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text
    assert "BEGIN SOLUTION" not in text
    assert [line for line in feedback.hidden_lines(prepared) if line in text] == []


def test_solutions_score_full_marks(graded_pair):
    result = graded_pair["results"]["solutions"]
    assert result["status"] == "graded"
    assert result["notes"] == []
    assert result["lib_imports"] == []
    assert result["auto_max"] > 0
    assert result["auto_points"] == result["auto_max"]
    assert result["manual_pending"] == result["manual_max"]
    for question in graded_pair["results"]["solutions"]["questions"]:
        assert question["messages"] == [], question["number"]
        assert question["visible"] == [], question["number"]


def test_blank_scores_zero(graded_pair):
    result = graded_pair["results"]["blank"]
    assert result["status"] == "graded"
    assert result["auto_points"] == 0.0
    assert result["manual_pending"] == 0.0


def test_blank_fails_only_at_stubs(graded_pair):
    graded = nbformat.read(graded_pair["output"] / "graded" / "blank.ipynb", as_version=4)
    errors = [output.ename for cell in graded.cells for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors
    assert set(errors) == {"NotImplementedError"}
