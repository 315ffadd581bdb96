"""The grader on small synthetic assignments: partial credit of every numeric type, the
wall-clock limit per submission and a worker process that dies."""

import os
import time

import nbformat
import psutil
from nbformat import v4

from grader import assignment, batch, settings

PARTIAL_CREDIT = {
    # grade_id: (last line of the test cell, points, expected score)
    "q1_float64": ("np.float64(0.5)", 1, 0.5),
    "q1_int64": ("np.int64(2)", 2, 2.0),
    "q1_fraction": ("Fraction(1, 4)", 1, 0.25),
    "q1_rational": ("sp.Rational(3, 4)", 1, 0.75),
    "q1_decimal": ("Decimal('0.5')", 1, 0.5),
    "q1_true": ("answer == 1", 1, 1.0),
    "q1_false": ("answer == 2", 1, 0.0),
    "q1_text": ("'half'", 1, 0.0),
    "q1_nan": ("float('nan')", 1, 0.0),
    "q1_negative": ("-0.5", 1, 0.0),
    "q1_above_maximum": ("5", 1, 0.0),
    "q1_result_then_error": ("sys.displayhook(1.0)\nassert answer == 2, 'answer should be 2'", 1, 0.0),
    "q1_printed_only": ("print(0.25)", 1, 1.0),
}


def write_source(root, name, graded_cells):
    """Write a one-question source notebook with the given graded test cells."""
    def cell(make, grade_id, source, **flags):
        made = make(source)
        made.metadata.nbgrader = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
                                  "solution": False, "task": False, **flags}
        return made

    cells = [
        cell(v4.new_markdown_cell, "q1_intro", "## Question 1: Partial credit", locked=True),
        cell(v4.new_code_cell, "setup", "import sys\nfrom decimal import Decimal\nfrom fractions import Fraction\n"
                                        "import numpy as np\nimport sympy as sp", locked=True),
        cell(v4.new_code_cell, "q1_answer", "### BEGIN SOLUTION\nanswer = 1\n### END SOLUTION", solution=True),
    ]
    for grade_id, (source, points, _) in graded_cells.items():
        cells.append(cell(v4.new_code_cell, grade_id, source, grade=True, locked=True, points=points))
    notebook = v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (root / name).mkdir(parents=True)
    nbformat.write(notebook, root / name / f"{name}.ipynb")


def test_partial_credit_of_any_numeric_type(tmp_path):
    write_source(tmp_path / "source", "credit", PARTIAL_CREDIT)
    prepared = assignment.prepare(tmp_path / "source", "credit")
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "student.ipynb").write_bytes(nbformat.writes(prepared.release).encode())
    student = nbformat.read(submissions / "student.ipynb", as_version=4)
    student.cells[2].source = "answer = 1"
    nbformat.write(student, submissions / "student.ipynb")

    _, (result,) = batch.autograde_folder(prepared, submissions, tmp_path / "out", settings.Limits(cell_timeout=20))
    scores = {grade_id: cell["points"] for grade_id, cell in result["cells"].items()}
    assert scores == {grade_id: expected for grade_id, (_, _, expected) in PARTIAL_CREDIT.items()}
    assert result["status"] == "review"
    reviewed = " ".join(note["text"] for note in result["notes"])
    for grade_id in ("q1_text", "q1_negative", "q1_above_maximum", "q1_nan"):
        assert grade_id in reviewed


def test_wall_clock_limit_stops_submission(tmp_path):
    write_source(tmp_path / "source", "slow", {"q1_sleep": ("import time\ntime.sleep(60)", 1, 0.0)})
    prepared = assignment.prepare(tmp_path / "source", "slow")
    item = batch.Item("sleeper", None, data=nbformat.writes(prepared.release).encode())
    limits = settings.Limits(cell_timeout=120, submission_timeout=6)
    started = time.monotonic()
    (result,) = batch.run_jobs([batch.make_job(item, prepared, limits, {})], limits, workers=1)
    assert time.monotonic() - started < 30
    assert result["status"] == "failed"
    assert "did not finish within 6 s" in result["notes"][0]["text"]
    leftovers = [p for p in psutil.Process().children(recursive=True) if "grader.kernel" in " ".join(p.cmdline())]
    assert leftovers == []


class DiesWhenUnpickled:
    """Stands in for an assignment; the worker process exits while it reads the job."""

    name = "broken"
    questions = {1: "a question"}

    def __reduce__(self):
        return (os._exit, (3,))


def test_dead_worker_gives_failed_row():
    item = batch.Item("crasher", None, data=b"{}")
    limits = settings.Limits()
    (result,) = batch.run_jobs([batch.make_job(item, DiesWhenUnpickled(), limits, {})], limits, workers=1)
    assert result["status"] == "failed"
    assert "exit code 3" in result["notes"][0]["text"]


def test_results_keep_job_order(tmp_path):
    count = 3
    write_source(tmp_path / "source", "tiny", {"q1_pass": ("assert answer == 1", 1, 1.0)})
    prepared = assignment.prepare(tmp_path / "source", "tiny")
    jobs = [batch.make_job(batch.Item(f"s{i}", None, reject=f"reason {i}"), prepared, settings.Limits(), {}) for i in range(count)]
    results = batch.run_jobs(jobs, settings.Limits(), workers=2)
    assert [r["student"] for r in results] == [f"s{i}" for i in range(count)]
    assert [r["notes"][0]["text"] for r in results] == [f"reason {i}" for i in range(count)]
