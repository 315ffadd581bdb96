"""Decide the score of each graded cell from its outputs, stricter than nbgrader.

nbgrader 0.9.6 (``nbgrader.utils.determine_grade``) gives full points when a test cell's
result cannot be read as a float, for example ``np.float64(0.5)``, ``Fraction(1, 2)`` or
``False``. It stops at the first result even if an error follows it, raises when a result
exceeds the cell's points, and gives 0 for any text on stderr. Here a cell scores 0 when it
raised, timed out or ran after the kernel was tampered with. A numeric result of any common
type is partial credit, and a result that is not a number scores 0 with a message. Text on
stderr does not cost points.
"""

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

from nbgrader import utils as nbgrader_utils
from nbgrader.preprocessors import SaveAutoGrades

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
WRAPPED_NUMBER = re.compile(r"^(?:np|numpy)\.(?:float|int|uint|longdouble|double|single|half)\d*\((.*)\)$")
FRACTION_REPR = re.compile(r"^Fraction\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)$")
DECIMAL_REPR = re.compile(r"^Decimal\(\s*'([^']*)'\s*\)$")
RATIO = re.compile(r"^(-?\d+)\s*/\s*(\d+)$")
MESSAGE_CHARS = 400


@dataclass
class CellScore:
    """Outcome of one graded cell."""

    grade_id: str
    max_points: float
    points: float | None  # None: awaits manual grading
    message: str = ""
    kind: str = "test"  # "test" (autograded code) or "manual" (written answer)
    review: list = field(default_factory=list)  # reasons an instructor should look at this cell


def clean_text(text, limit=MESSAGE_CHARS):
    """Return ``text`` on one line without ANSI colours, cut to ``limit`` characters."""
    text = ANSI_ESCAPE.sub("", str(text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_partial_credit(text):
    """Return the number written in a test cell's text result, or None if it is not a number.

    Understands plain numbers, numpy scalars (``np.float64(0.5)``), ``Fraction(1, 2)``, sympy
    rationals (``1/2``) and ``Decimal('0.5')``.
    """
    text = text.strip()
    match = WRAPPED_NUMBER.match(text)
    if match:
        text = match.group(1).strip()
    match = FRACTION_REPR.match(text) or RATIO.match(text)
    if match:
        numerator, denominator = int(match.group(1)), int(match.group(2))
        return float(Fraction(numerator, denominator)) if denominator else None
    match = DECIMAL_REPR.match(text)
    if match:
        text = match.group(1)
    try:
        return float(text)
    except ValueError:
        return None


def _result_text(output):
    data = output.get("data", {}).get("text/plain", "")
    return "".join(data) if isinstance(data, list) else str(data)


def score_test_cell(cell, run, tampered):
    """Return the CellScore of an autograded test cell after execution.

    ``run`` is the execution record of the cell (reply status, error name and value), or None
    if the cell never ran. ``tampered`` is True when the kernel guard could not run before it.
    """
    grade_id = cell.metadata.nbgrader["grade_id"]
    max_points = float(cell.metadata.nbgrader["points"])
    score = CellScore(grade_id, max_points, 0.0)

    if tampered:
        score.message = "not graded: the grading kernel was modified so that its integrity check could not run"
        score.review.append(score.message)
        return score
    if run is None:
        score.message = "not run: the cell was skipped because it stopped the kernel"
        return score
    if run.get("skipped"):
        score.message = f"not run: {run['skipped']}"
        return score

    errors = [output for output in cell.outputs if output.output_type == "error"]
    if run.get("timed_out"):
        score.message = clean_text(f"{run.get('ename')}: {run.get('evalue')}")
        return score
    if run.get("status") == "error" or errors:
        if run.get("ename"):
            ename, evalue = run["ename"], run.get("evalue")
        elif errors:
            ename, evalue = errors[0].ename, errors[0].evalue
        else:
            ename, evalue = "Error", ""
        score.message = clean_text(f"{ename}: {evalue}" if evalue else ename)
        return score

    results = [output for output in cell.outputs if output.output_type == "execute_result"]
    if not results:
        score.points = max_points
        return score
    if len(results) > 1:
        score.review.append(f"the cell produced {len(results)} results; the last one was used")
    text = _result_text(results[-1]).strip()
    if text in ("True", "np.True_", "numpy.True_"):
        score.points = max_points
        return score
    if text in ("False", "np.False_", "numpy.False_"):
        score.message = "the test returned False"
        return score
    value = parse_partial_credit(text)
    if value is None or not math.isfinite(value):
        score.message = clean_text(f"the test's result {text!r} is not a number of points; scored 0")
        score.review.append(score.message)
        return score
    if value < 0:
        score.message = clean_text(f"the test's result {text} is negative; scored 0")
        score.review.append(score.message)
        return score
    if value > max_points * (1 + 1e-9):
        score.message = clean_text(f"the test's result {text} exceeds the cell's {max_points:g} points; scored 0")
        score.review.append(score.message)
        return score
    score.points = min(value, max_points)
    if score.points < max_points:
        score.message = f"partial credit: {score.points:g} of {max_points:g}"
    return score


def score_manual_cell(cell):
    """Return the CellScore of a written answer: 0 if left as the stub, otherwise awaiting."""
    grade_id = cell.metadata.nbgrader["grade_id"]
    max_points = float(cell.metadata.nbgrader["points"])
    checksum = cell.metadata.nbgrader.get("checksum")
    if checksum is not None and checksum == nbgrader_utils.compute_checksum(cell):
        return CellScore(grade_id, max_points, 0.0, "no answer written", kind="manual")
    return CellScore(grade_id, max_points, None, "awaits manual grading", kind="manual")


def score_notebook(nb, run_log):
    """Return {grade_id: CellScore} for every graded cell of an executed notebook."""
    scores = {}
    tampered_at = run_log.get("tampered_at")
    for index, cell in enumerate(nb.cells):
        if not nbgrader_utils.is_grade(cell):
            continue
        if nbgrader_utils.is_solution(cell) or cell.cell_type != "code":
            score = score_manual_cell(cell)
        else:
            run = run_log["cells"].get(index)
            tampered = tampered_at is not None and index >= tampered_at
            score = score_test_cell(cell, run, tampered)
        scores[score.grade_id] = score
    return scores


# Scores of this process's runs, newest last, for the caller of nbgrader's converter.
SCORES = []


class SaveScores(SaveAutoGrades):
    """nbgrader's SaveAutoGrades, storing the scores decided above instead of nbgrader's own."""

    def preprocess(self, nb, resources):
        self.scores = score_notebook(nb, resources["grader_run"])
        SCORES.append(self.scores)
        return super().preprocess(nb, resources)

    def _add_score(self, cell, resources):
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        grade = self.gradebook.find_grade(grade_id, self.notebook_id, self.assignment_id, self.student_id)
        grade.auto_score = self.scores[grade_id].points
        grade.needs_manual_grade = grade.auto_score is None or grade.manual_score is not None
        self.gradebook.db.commit()
