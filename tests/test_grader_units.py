"""Unit tests of the homework grader's parts that need no kernel: reading, rebuilding, scoring, checks."""

import copy
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sympy as sp
from nbformat import v4
from nbgrader import utils as nbgrader_utils

from grader import assignment, batch, checks, feedback, kernel, release, scoring, submission
from grader.repair import MISSING_CODE, MISSING_TEXT, Rebuild, imports_lib

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "homework" / "source"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@pytest.fixture(scope="module")
def prepared():
    return assignment.prepare(SOURCE, "hw1")


def solved_cells(prepared):
    """Return the release's cells with every answer taken from the source solutions."""
    source = nbformat.read(SOURCE / "hw1" / "hw1.ipynb", as_version=4)
    answers = {cell.metadata.nbgrader["grade_id"]: cell.source for cell in source.cells}
    cells = copy.deepcopy(prepared.release.cells)
    for cell in cells:
        if cell.metadata.nbgrader.get("solution"):
            lines = answers[cell.metadata.nbgrader["grade_id"]].splitlines()
            cell.source = "\n".join(line for line in lines if line.strip() not in MARKERS)
    return cells


def as_submission(cells):
    return submission.Submission([
        submission.SubmittedCell(c.cell_type, c.source, copy.deepcopy(c.metadata.get("nbgrader")), c.get("attachments"))
        for c in cells
    ])


def ids_of(notebook):
    return [cell.metadata.get("nbgrader", {}).get("grade_id", cell.id) for cell in notebook.cells]


def test_partial_credit_parses_numeric_types():
    cases = {
        "0.5": 0.5, "np.float64(0.5)": 0.5, "numpy.float32(0.25)": 0.25, "np.int64(1)": 1.0,
        "Fraction(1, 2)": 0.5, "1/2": 0.5, "Decimal('0.75')": 0.75, "2": 2.0,
    }
    for text, value in cases.items():
        assert scoring.parse_partial_credit(text) == pytest.approx(value), text
    for text in ("half", "[0.5]", "array([0.5])", "Fraction(1, 0)"):
        assert scoring.parse_partial_credit(text) is None, text


def graded_cell(outputs, points=2):
    cell = v4.new_code_cell("pass")
    cell.metadata.nbgrader = {"grade": True, "grade_id": "q1_test", "locked": True, "points": points,
                              "schema_version": 3, "solution": False, "task": False}
    cell.outputs = [nbformat.from_dict(output) for output in outputs]
    return cell


def result_output(text):
    return {"output_type": "execute_result", "execution_count": 1, "data": {"text/plain": text}, "metadata": {}}


ERROR = {"output_type": "error", "ename": "AssertionError", "evalue": "wrong", "traceback": []}
OK_RUN = {"status": "ok"}


def test_scores_stricter_than_nbgrader():
    cases = [
        # outputs, run record, our points, nbgrader's points
        ([result_output("np.float64(0.5)")], OK_RUN, 0.5, 2.0),
        ([result_output("Fraction(3, 4)")], OK_RUN, 0.75, 2.0),
        ([result_output("False")], OK_RUN, 0.0, 2.0),
        ([result_output("True")], OK_RUN, 2.0, 2.0),
        ([result_output("-1.0")], OK_RUN, 0.0, 2.0),
        ([result_output("nan")], OK_RUN, 0.0, None),
        ([result_output("1.0"), ERROR], {"status": "error", "ename": "AssertionError", "evalue": "wrong"}, 0.0, 1.0),
        ([{"output_type": "stream", "name": "stderr", "text": "a warning\n"}], OK_RUN, 2.0, 0.0),
        ([], {"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}, 0.0, 2.0),
    ]
    for outputs, run, ours, theirs in cases:
        cell = graded_cell(outputs)
        assert scoring.score_test_cell(cell, run, False).points == ours, outputs
        if theirs is not None:
            assert nbgrader_utils.determine_grade(cell)[0] == theirs, outputs


def test_score_above_maximum_is_zero():
    cell = graded_cell([result_output("5")])
    with pytest.raises(ValueError):
        nbgrader_utils.determine_grade(cell)
    score = scoring.score_test_cell(cell, OK_RUN, False)
    assert score.points == 0.0
    assert score.review


def test_score_zero_after_timeout_or_tampering():
    cell = graded_cell([])
    assert scoring.score_test_cell(cell, OK_RUN, True).points == 0.0
    assert scoring.score_test_cell(cell, {"timed_out": True, "evalue": "too long"}, False).points == 0.0
    assert scoring.score_test_cell(cell, None, False).points == 0.0
    assert scoring.score_test_cell(cell, {"skipped": "it killed the kernel"}, False).message == "not run: it killed the kernel"
    assert scoring.score_test_cell(cell, OK_RUN, False).points == 2.0


def test_submission_reads_unusual_encodings():
    notebook = {"nbformat": 4, "nbformat_minor": 2, "metadata": {},
                "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["caf", "\u00e9"]}]}
    text = json.dumps(notebook, ensure_ascii=False)
    for data, note in [(text.encode("utf-8"), None), (b"\xef\xbb\xbf" + text.encode("utf-8"), "byte-order mark"),
                       (text.encode("latin-1"), "Latin-1"), (b"\xff\xfe" + text.encode("utf-16-le"), "byte-order mark")]:
        parsed = submission.read(data, 2**20)
        assert parsed.cells[0].source == "caf\u00e9"
        assert (note is None and not parsed.notes) or any(note in n for n in parsed.notes)


def test_submission_rejects_broken_files():
    good = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}).encode()
    cases = {
        b"": "empty",
        good[: len(good) // 2]: "line 1",
        b"\x89PNG\r\n\x1a\n\x00\x00": "not a valid notebook",
        json.dumps([1, 2]).encode(): "not a Jupyter notebook",
        json.dumps({"nbformat": 5, "cells": []}).encode(): "format version 5",
        json.dumps({"nbformat": 4, "cells": "x"}).encode(): "no list of cells",
        b"[" * 100_000 + b"]" * 100_000: "nested too deeply",
    }
    for data, expected in cases.items():
        with pytest.raises(submission.Rejected, match=expected):
            submission.read(data, 2**22)
    with pytest.raises(submission.Rejected, match="larger than"):
        submission.read(good, 10)


def test_submission_converts_old_formats():
    version3 = {"nbformat": 3, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "heading", "level": 2, "source": "Title", "metadata": {}},
        {"cell_type": "code", "input": ["x = 1\n", "y = 2"], "language": "python", "outputs": [], "metadata": {}},
        {"cell_type": "widget", "source": "", "metadata": {}},
    ]}]}
    parsed = submission.read(json.dumps(version3).encode(), 2**20)
    assert [(c.cell_type, c.source) for c in parsed.cells] == [("markdown", "## Title"), ("code", "x = 1\ny = 2")]
    assert any("format 3" in note for note in parsed.notes)
    assert any("unknown type" in note for note in parsed.notes)


def test_rebuild_solved_notebook_unchanged(prepared):
    rebuild = Rebuild(as_submission(solved_cells(prepared)), prepared)
    assert rebuild.notes == []
    assert ids_of(rebuild.notebook) == ids_of(prepared.template)
    for built, template in zip(rebuild.notebook.cells, prepared.template.cells):
        if not template.metadata.nbgrader.get("solution"):
            assert built.source == template.source


def test_rebuild_duplicated_and_split_answers(prepared):
    cells = solved_cells(prepared)
    position = ids_of(prepared.release).index("q3_functions")
    first, second = copy.deepcopy(cells[position]), copy.deepcopy(cells[position])
    first.source, second.source = cells[position].source.split("\n\n\ndef perturbation_bound")[0], "def perturbation_bound" + cells[position].source.split("\n\n\ndef perturbation_bound")[1]
    cells[position:position + 1] = [first, second]
    rebuild = Rebuild(as_submission(cells), prepared)
    built = rebuild.notebook.cells
    where = ids_of(rebuild.notebook).index("q3_functions")
    assert built[where].source.startswith("def perturbation_bound")
    assert built[where - 1].source.startswith("def relative_change")
    assert "nbgrader" not in built[where - 1].metadata
    assert any("appears 2 times" in text for _, text in rebuild.notes)


def test_rebuild_restores_deleted_and_edited_cells(prepared):
    cells = solved_cells(prepared)
    names = ids_of(prepared.release)
    drop = {"q2_moments_tests", "setup", "q1_shapes", "q2_written"}
    cells[names.index("q5_report")].source = "print('I changed this')"
    cells = [cell for cell, name in zip(cells, names) if name not in drop]
    rebuild = Rebuild(as_submission(cells), prepared)
    built = {cell.metadata.nbgrader["grade_id"]: cell for cell in rebuild.notebook.cells}
    template = {cell.metadata.nbgrader["grade_id"]: cell for cell in prepared.template.cells}
    assert built["q2_moments_tests"].source == template["q2_moments_tests"].source
    assert built["q5_report"].source == template["q5_report"].source
    assert built["q1_shapes"].source == MISSING_CODE
    assert built["q2_written"].source == MISSING_TEXT
    notes = " | ".join(text for _, text in rebuild.notes)
    for expected in ("q2_moments_tests was missing", "setup was missing", "q1_shapes was missing",
                     "q5_report was edited", "written answer q2_written was missing"):
        assert expected in notes
    assert ("review", "written answer q2_written was missing; it awaits manual grading") in rebuild.notes


def test_rebuild_restores_order_and_types(prepared):
    cells = solved_cells(prepared)
    names = ids_of(prepared.release)
    own = v4.new_code_cell("helper = 42")
    own.metadata = {}
    moved = cells.pop(names.index("q5_h"))
    moved.cell_type = "markdown"
    cells.insert(0, own)
    cells.insert(0, moved)
    cells.append(cells.pop(names.index("q1_shapes_tests") + 1))
    rebuild = Rebuild(as_submission(cells), prepared)
    built_ids = ids_of(rebuild.notebook)
    assert [i for i in built_ids if not i.startswith("extra")] == names
    position = built_ids.index("q5_h")
    assert rebuild.notebook.cells[position].cell_type == "code"
    assert rebuild.notebook.cells[position + 1].source == "helper = 42"
    notes = " | ".join(text for _, text in rebuild.notes)
    assert "order was restored" in notes
    assert "changed back to code" in notes


def test_rebuild_without_metadata_matches_content(prepared):
    cells = solved_cells(prepared)
    for cell in cells:
        cell.metadata = {"colab": {"id": "x"}}
    rebuild = Rebuild(as_submission(cells), prepared)
    built = {cell.metadata.get("nbgrader", {}).get("grade_id"): cell for cell in rebuild.notebook.cells}
    assert not any(cell.id.startswith("extra") for cell in rebuild.notebook.cells)
    assert "def h(t)" in built["q5_h"].source
    assert "layer" in built["q1_diagram"].source
    assert any("matched by content" in text for _, text in rebuild.notes)


def test_rebuild_strips_forged_grade_cells(prepared):
    cells = solved_cells(prepared)
    forged = v4.new_code_cell("pass")
    forged.metadata.nbgrader = {"grade": True, "grade_id": "q9_free_points", "locked": True, "points": 100,
                                "schema_version": 3, "solution": False}
    cells.insert(3, forged)
    rebuild = Rebuild(as_submission(cells), prepared)
    extras = [cell for cell in rebuild.notebook.cells if cell.id.startswith("extra")]
    assert len(extras) == 1
    assert "nbgrader" not in extras[0].metadata
    assert any("unknown grade_id 'q9_free_points'" in text for _, text in rebuild.notes)


def test_lib_imports_detected():
    flagged = ["import lib", "from lib import data", "from lib.kernels import h", "import lib.sampling as s",
               "import importlib\nm = importlib.import_module('lib.kernels')", "%time import lib\nx = 1",
               "def f():\n    from lib import data\n    return data"]
    clean = ["import library", "import numpy as lib", "# import lib", "text = 'import lib'", "from .lib import x",
             "import numpy as np\nnp.lib.stride_tricks"]
    for source in flagged:
        assert imports_lib(source), source
    for source in clean:
        assert not imports_lib(source), source


def test_equivalence_accepts_any_form():
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    x = sp.Symbol("x")
    checks.assert_equivalent(sigma * sigma, sigma**2, "Var")
    checks.assert_equivalent(sp.Symbol("sigma") ** 2, sigma**2, "Var")
    checks.assert_equivalent(sp.sin(x) ** 2 + sp.cos(x) ** 2 + mu - mu, 1, "identity")
    checks.assert_equivalent(sp.Integer(0), 0, "E[y]")
    checks.assert_equivalent(0, 0, "E[y]")


def test_equivalence_messages_say_what_differs():
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    cases = [
        (sigma**2 + mu**2, sigma**2, "still depends on mu"),
        (mu, 0, "still depends on mu"),
        (sigma, sigma**2, "yours / correct = 1/sigma"),
        (sp.Integer(1), sigma**2, "does not depend on sigma"),
        ("sigma**2", sigma**2, "not the string"),
        ([sigma], sigma**2, "must be a sympy expression"),
    ]
    for actual, expected, message in cases:
        with pytest.raises(AssertionError, match=message):
            checks.assert_equivalent(actual, expected, "Var[y]")


def test_numeric_checks_resist_fake_arrays():
    class AlwaysEqual(np.ndarray):
        def __eq__(self, other):
            return True

        def __sub__(self, other):
            return np.zeros(self.shape)

    fake = np.array([5.0, 5.0]).view(AlwaysEqual)
    with pytest.raises(AssertionError, match="is wrong at index"):
        checks.assert_close(fake, [1.0, 2.0], "h(t)")
    with pytest.raises(AssertionError, match="NaN or infinity: clip"):
        checks.assert_close([np.nan, 1.0], [1.0, 1.0], "h(t)", hint="clip")
    with pytest.raises(AssertionError, match="shape"):
        checks.assert_close(np.zeros(3), np.zeros(2), "h(t)")
    with pytest.raises(AssertionError, match="must be a number"):
        checks.as_float_array({"a": 1}, "h(t)")
    with pytest.raises(AssertionError, match="6.0 standard errors"):
        checks.assert_within_standard_errors([1.6], [1.0], [0.1], "K")
    checks.assert_within_standard_errors([1.4], [1.0], [0.1], "K")


def test_scrub_removes_hidden_lines(prepared):
    lines = feedback.hidden_lines(prepared)
    assert lines and all(len(line) >= feedback.MIN_HIDDEN_LINE for line in lines)
    visible = "\n".join(cell.source for cell in prepared.release.cells)
    assert not any(line in visible for line in lines)
    leaked = "Traceback\n    " + lines[0] + "\nAssertionError"
    assert lines[0] not in feedback.scrub(leaked, lines)
    assert feedback.REMOVED in feedback.scrub(leaked, lines)


def test_release_refuses_edited_copy(prepared, tmp_path):
    states = release.release(prepared, tmp_path)
    assert [state for _, state in states] == ["written"]
    assert [state for _, state in release.release(prepared, tmp_path)] == ["unchanged"]
    path = tmp_path / "hw1" / "hw1.ipynb"
    edited = nbformat.read(path, as_version=4)
    edited.cells[3].source = edited.cells[3].source.replace("raise NotImplementedError", "return [] #")
    nbformat.write(edited, path)
    before = path.read_bytes()
    with pytest.raises(release.ReleaseError, match="q1_shapes was edited"):
        release.release(prepared, tmp_path)
    assert path.read_bytes() == before
    assert [state for _, state in release.release(prepared, tmp_path, check=True)] == ["out of date"]
    assert [state for _, state in release.release(prepared, tmp_path, force=True)] == ["written"]
    assert path.read_bytes() == release.serialise(prepared.release)


def test_source_rules_enforced(prepared, tmp_path):
    source = nbformat.read(SOURCE / "hw1" / "hw1.ipynb", as_version=4)
    source.cells.append(v4.new_markdown_cell("a cell without metadata"))
    source.cells[3].metadata.nbgrader["grade_id"] = "shapes"
    with pytest.raises(assignment.AssignmentError) as error:
        assignment.check_source(source)
    assert "has no nbgrader grade_id" in str(error.value)
    assert "needs a q<number>_ prefix" in str(error.value)
    with pytest.raises(assignment.AssignmentError, match="source notebook not found"):
        assignment.prepare(tmp_path, "hw1")


def test_discover_submission_layouts(tmp_path):
    (tmp_path / "alice.ipynb").write_text("{}")
    (tmp_path / "bob" / "hw1").mkdir(parents=True)
    (tmp_path / "bob" / "hw1" / "hw1.ipynb").write_text("{}")
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol" / "homework one.ipynb").write_text("{}")
    (tmp_path / "dave").mkdir()
    (tmp_path / "dave" / "a.ipynb").write_text("{}")
    (tmp_path / "dave" / "b.ipynb").write_text("{}")
    (tmp_path / "erin").mkdir()
    (tmp_path / "frank.pdf").write_text("%PDF")
    (tmp_path / ".DS_Store").write_text("")
    (tmp_path / "gina.ipynb").symlink_to(tmp_path / "alice.ipynb")
    items = {item.student: item for item in batch.discover(tmp_path, "hw1")}
    assert sorted(items) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    assert items["alice"].reject is None
    assert items["bob"].path.parts[-2:] == ("hw1", "hw1.ipynb")
    assert items["carol"].path.name == "homework one.ipynb"
    assert "several notebooks" in items["dave"].reject
    assert "no notebook found" in items["erin"].reject
    assert "not a notebook" in items["frank"].reject
    assert "symbolic link" in items["gina"].reject
    big = batch.read_item(batch.Item("big", tmp_path / "alice.ipynb"), 1)
    assert "larger than" in big.reject


def test_kernel_environment_allow_list():
    environment = {"PATH": "/usr/bin", "HOME": "/home/x", "GITHUB_TOKEN": "secret", "GRADER_SOURCE": "/private", "LANG": "de_DE.ISO-8859-1"}
    cleaned = kernel.clean_environment(environment)
    assert "GITHUB_TOKEN" not in cleaned
    assert "GRADER_SOURCE" not in cleaned
    assert cleaned["LANG"] == "C.UTF-8"
    assert cleaned["PATH"] == "/usr/bin"
    assert cleaned["OPENBLAS_NUM_THREADS"] == "1"


def test_csv_rows_for_ungraded_submissions(prepared):
    from grader import worker

    items = [batch.Item("rejected", Path("r.ipynb"), "bad"), batch.Item("failed", Path("f.ipynb"))]
    results = [worker.failed_result("rejected", prepared, "rejected", "the file is empty"),
               worker.failed_result("failed", prepared, "failed", "grading did not finish")]
    header, rejected, failed = batch.csv_rows(results, items, prepared)
    assert header[:7] == ["student", "q1", "q2", "q3", "q4", "q5", "total"]
    assert rejected[1:7] == [0, 0, 0, 0, 0, "0"]
    assert rejected[header.index("status")] == "rejected"
    assert failed[1:7] == ["", "", "", "", "", ""]
    assert failed[header.index("message")] == "grading did not finish"
