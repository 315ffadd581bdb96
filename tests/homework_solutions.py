"""Build student notebooks for the homework tests: the release with the source's answers filled in."""

import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_sources(name):
    """Return {grade_id: source} of the answer cells of homework ``name``'s source, without the solution markers."""
    source = nbformat.read(ROOT / "homework" / "source" / name / f"{name}.ipynb", as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: "\n".join(line for line in cell.source.splitlines() if line.strip() not in MARKERS)
        for cell in source.cells
        if cell.metadata.nbgrader.get("solution")
    }


def solved(name, changes=None):
    """Return homework ``name``'s release notebook with the source's answers, then ``changes`` ({grade_id: source})."""
    notebook = nbformat.read(ROOT / "homework" / "release" / name / f"{name}.ipynb", as_version=4)
    answers = {**solution_sources(name), **(changes or {})}
    for cell in notebook.cells:
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in answers:
            cell.source = textwrap.dedent(answers[grade_id]).strip("\n")
    return notebook
