"""Homework 1 graded end to end: the solutions, one submission per common mistake and one per
hardening case, all in one parallel batch, plus the student's `grade` command. The checks
every assignment passes (solutions, blank, release) are in test_grader_assignments.py.

Every submission is generated here from the source notebook: the solved notebook is the
release with the source's solutions filled in, and each case changes it the way a student
or a tool would. Each case states the autograded points it must get (13 is full marks; the
7 points of written answers always await manual grading) and the status of its CSV row.
"""

import copy
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

import homework_solutions
from grader import assignment, batch, feedback, settings

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "homework" / "source"
RELEASE = ROOT / "homework" / "release" / "hw1" / "hw1.ipynb"
FULL = 13.0
LIMITS = settings.Limits(cell_timeout=6, submission_timeout=240, kernel_memory_mb=2048)
SECRET_VARIABLE = "GRADER_TEST_SECRET"


def solution_sources():
    return homework_solutions.solution_sources("hw1")


def solved(changes=None):
    """Return the hw1 release notebook with the source's answers, then ``changes`` ({grade_id: source})."""
    return homework_solutions.solved("hw1", changes)


def position(notebook, grade_id):
    return [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells].index(grade_id)


def own_cell(source):
    cell = v4.new_code_cell(textwrap.dedent(source).strip("\n"))
    cell.metadata = {}
    return cell


def with_own_cell(notebook, after, source):
    notebook.cells.insert(position(notebook, after) + 1, own_cell(source))
    return notebook


def encode(notebook):
    return nbformat.writes(notebook).encode("utf-8")


# Wrong answers, one per common mistake. Each replaces a whole answer cell.
CORRECT_BALANCE = '''
def balance_rows(W):
    W = np.asarray(W, dtype=float)
    centred = W - W.mean(axis=1, keepdims=True)
    return centred / np.linalg.norm(centred, axis=1, keepdims=True)
'''


def sampler(body):
    """Return a sample_outputs cell: the correct first lines, then ``body`` as the rest of the function."""
    start = "def sample_outputs(X, widths, n_networks, rng):\n    X = np.asarray(X, dtype=float)\n    n, d0 = X.shape\n"
    return start + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"


MISTAKES = {
    "q1_shapes": {
        "counts_biases": '''
            def weight_shapes(widths):
                return [(widths[l], widths[l - 1]) for l in range(1, len(widths))]

            def weight_count(widths):
                return sum(d_out * d_in + d_out for d_out, d_in in weight_shapes(widths))
            ''',
        "transposed_shapes": '''
            def weight_shapes(widths):
                return [(widths[l - 1], widths[l]) for l in range(1, len(widths))]

            def weight_count(widths):
                return sum(a * b for a, b in weight_shapes(widths))
            ''',
    },
    "q2_moments": {
        "variance_not_squared": "def wiring_moments(mu, sigma):\n    return sp.Integer(0), sigma\n" + CORRECT_BALANCE,
        "mean_keeps_mu": "def wiring_moments(mu, sigma):\n    return mu, sigma**2\n" + CORRECT_BALANCE,
        "rows_standardised": '''
            def wiring_moments(mu, sigma):
                return sp.Integer(0), sigma**2

            def balance_rows(W):
                W = np.asarray(W, dtype=float)
                centred = W - W.mean(axis=1, keepdims=True)
                return centred / centred.std(axis=1, keepdims=True)
            ''',
    },
    "q3_functions": {
        "first_order_bound": '''
            def relative_change(W, dW, x):
                y, y_perturbed = x, x
                for W_l, dW_l in zip(W, dW):
                    y, y_perturbed = W_l @ y, (W_l + dW_l) @ y_perturbed
                return np.linalg.norm(y_perturbed - y) / np.linalg.norm(y)

            def perturbation_bound(W, dW):
                return sum(np.linalg.norm(d) / np.linalg.norm(w) for w, d in zip(W, dW))
            ''',
    },
    "q3_constant": {
        "constant_one": "def constant_C(W, x):\n    return 1.0\n",
    },
    "q4_moments": {
        "sigma_not_squared": '''
            def linear_neuron_moments(x, xp, sigma):
                return sp.Integer(0), sigma * sum(a * b for a, b in zip(x, xp))

            def sample_linear_neuron(X, sigma, n_samples, rng):
                X = np.asarray(X, dtype=float)
                return sigma * rng.standard_normal((n_samples, X.shape[1])) @ X.T
            ''',
        "independent_draws": '''
            def linear_neuron_moments(x, xp, sigma):
                return sp.Integer(0), sigma**2 * sum(a * b for a, b in zip(x, xp))

            def sample_linear_neuron(X, sigma, n_samples, rng):
                X = np.asarray(X, dtype=float)
                return sigma * np.linalg.norm(X, axis=1) * rng.standard_normal((n_samples, X.shape[0]))
            ''',
    },
    "q5_h": {
        "h_not_clipped": '''
            def h(t):
                t = np.asarray(t, dtype=float)
                return (np.sqrt(1.0 - t**2) + t * (np.pi - np.arccos(t))) / np.pi
            ''',
    },
    "q5_theory": {
        "h_composed_L_times": '''
            def theory_covariance(X, L):
                X = np.asarray(X, dtype=float)
                X = X * np.sqrt(X.shape[1]) / np.linalg.norm(X, axis=1, keepdims=True)
                K = X @ X.T / X.shape[1]
                for _ in range(L):
                    K = h(K)
                return K
            ''',
    },
    "q5_sampler": {
        "fan_out_variance": sampler('''
                X = X * np.sqrt(d0) / np.linalg.norm(X, axis=1, keepdims=True)
                A = np.broadcast_to(X, (n_networks, n, d0))
                for d_l in widths[1:]:
                    covariance = A @ A.transpose(0, 2, 1) / d_l
                    Z = np.linalg.cholesky(covariance + 1e-12 * np.eye(n)) @ rng.standard_normal((n_networks, n, d_l))
                    A = np.sqrt(2) * np.maximum(Z, 0)
                return Z[:, :, 0]
            '''),
        "missing_sqrt2": sampler('''
                X = X * np.sqrt(d0) / np.linalg.norm(X, axis=1, keepdims=True)
                A = np.broadcast_to(X, (n_networks, n, d0))
                for d_l in widths[1:]:
                    covariance = A @ A.transpose(0, 2, 1) / A.shape[2]
                    Z = np.linalg.cholesky(covariance + 1e-12 * np.eye(n)) @ rng.standard_normal((n_networks, n, d_l))
                    A = np.maximum(Z, 0)
                return Z[:, :, 0]
            '''),
        "global_random_state": sampler('''
                X = X * np.sqrt(d0) / np.linalg.norm(X, axis=1, keepdims=True)
                A = np.broadcast_to(X, (n_networks, n, d0))
                for d_l in widths[1:]:
                    covariance = A @ A.transpose(0, 2, 1) / A.shape[2]
                    Z = np.linalg.cholesky(covariance + 1e-12 * np.eye(n)) @ np.random.standard_normal((n_networks, n, d_l))
                    A = np.sqrt(2) * np.maximum(Z, 0)
                return Z[:, :, 0]
            '''),
        "fixed_seed": sampler('''
                rng = np.random.default_rng(12345)
                X = X * np.sqrt(d0) / np.linalg.norm(X, axis=1, keepdims=True)
                A = np.broadcast_to(X, (n_networks, n, d0))
                for d_l in widths[1:]:
                    covariance = A @ A.transpose(0, 2, 1) / A.shape[2]
                    Z = np.linalg.cholesky(covariance + 1e-12 * np.eye(n)) @ rng.standard_normal((n_networks, n, d_l))
                    A = np.sqrt(2) * np.maximum(Z, 0)
                return Z[:, :, 0]
            '''),
    },
    "q5_empirical": {
        "uses_np_cov": "def empirical_second_moment(F):\n    return np.cov(np.asarray(F).T)\n",
    },
}
UNNORMALISED = {
    "q5_theory": '''
        def theory_covariance(X, L):
            X = np.asarray(X, dtype=float)
            K = X @ X.T / X.shape[1]
            for _ in range(L - 1):
                K = h(K)
            return K
        ''',
    "q5_sampler": sampler('''
            A = np.broadcast_to(X, (n_networks, n, d0))
            for d_l in widths[1:]:
                covariance = A @ A.transpose(0, 2, 1) / A.shape[2]
                Z = np.linalg.cholesky(covariance + 1e-12 * np.eye(n)) @ rng.standard_normal((n_networks, n, d_l))
                A = np.sqrt(2) * np.maximum(Z, 0)
            return Z[:, :, 0]
        '''),
}
WEIGHT_SAMPLER = '''
    def sample_outputs(X, widths, n_networks, rng):
        X = np.asarray(X, dtype=float)
        X = X * np.sqrt(X.shape[1]) / np.linalg.norm(X, axis=1, keepdims=True)
        F = np.empty((n_networks, X.shape[0]))
        for k in range(n_networks):
            A = X
            for l in range(1, len(widths)):
                W = rng.standard_normal((widths[l], widths[l - 1])) / np.sqrt(widths[l - 1])
                Z = A @ W.T
                A = np.sqrt(2) * np.maximum(Z, 0)
            F[k] = Z[:, 0]
        return F
    '''

# Points each mistake loses, and why.
MISTAKE_POINTS = {
    "counts_biases": FULL - 1,  # 1.1
    "transposed_shapes": FULL - 1,  # 1.1
    "variance_not_squared": FULL - 1,  # 2.1
    "mean_keeps_mu": FULL - 1,  # 2.1
    "rows_standardised": FULL - 1,  # 2.2
    "first_order_bound": FULL - 1,  # 3.1 only: 3.2 checks C against the correct bracket
    "constant_one": FULL - 1,  # 3.2
    "sigma_not_squared": FULL - 1,  # 4.1
    "independent_draws": FULL - 1,  # 4.2
    "h_not_clipped": FULL - 3,  # 5.1, and 5.2 is NaN on the homework's own inputs
    "h_composed_L_times": FULL - 1.5,  # 5.2
    "fan_out_variance": FULL - 2,  # both sampler tests
    "missing_sqrt2": FULL - 2,  # both sampler tests: the second moment drops to 1/4 at L = 3
    "global_random_state": FULL - 1,  # the reproducibility check of 5.3
    "fixed_seed": FULL - 1,  # the different-generators check of 5.3
    "uses_np_cov": FULL - 1,  # 5.4
    "unnormalised_inputs": FULL - 3.5,  # 5.2 and both sampler tests
}


def colab_copy(notebook, keep_nbgrader=True):
    """Return the JSON bytes of ``notebook`` as Colab saves it."""
    document = json.loads(nbformat.writes(notebook))
    document["nbformat_minor"] = 0
    document["metadata"] = {"colab": {"provenance": [], "collapsed_sections": []}, "accelerator": "GPU",
                            "kernelspec": {"name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}}
    for number, cell in enumerate(document["cells"]):
        cell.pop("id", None)
        nbgrader = cell["metadata"].get("nbgrader")
        cell["metadata"] = {"id": f"c{number:04d}", "colab": {"base_uri": "https://localhost/"}}
        if keep_nbgrader and nbgrader:
            cell["metadata"]["nbgrader"] = nbgrader
        if cell["cell_type"] == "code":
            cell["execution_count"] = number
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["old output\n"], "metadata": {"colab": {}}}]
    return json.dumps(document, indent=2).encode("utf-8")


def vscode_copy(notebook):
    """Return the JSON bytes of ``notebook`` as VS Code saves an older-format notebook."""
    document = json.loads(nbformat.writes(notebook))
    document["nbformat_minor"] = 2
    document["metadata"]["vscode"] = {"interpreter": {"hash": "0" * 64}}
    document["metadata"]["orig_nbformat"] = 4
    for cell in document["cells"]:
        cell.pop("id", None)
        cell["metadata"]["vscode"] = {"languageId": "python"}
    return json.dumps(document).encode("utf-8")


def version3_copy(notebook):
    return nbformat.writes(nbformat.convert(copy.deepcopy(notebook), 3)).encode("utf-8")


def hardening_cases(folder):
    """Return {student: (bytes or None, expected autograded points, expected status)}."""
    cases = {}

    def add(name, data, points, status):
        cases[name] = (data if isinstance(data, bytes) else encode(data), points, status)

    add("weight_sampler", solved({"q5_sampler": WEIGHT_SAMPLER}), FULL, "graded")
    for changes in MISTAKES.values():
        for name, source in changes.items():
            grade_id = next(g for g, c in MISTAKES.items() if name in c)
            add(name, solved({grade_id: source}), MISTAKE_POINTS[name], "graded")
    add("unnormalised_inputs", solved(UNNORMALISED), MISTAKE_POINTS["unnormalised_inputs"], "graded")

    # Files written by other tools or older Jupyter versions.
    add("colab", colab_copy(solved()), FULL, "graded")
    add("colab_without_metadata", colab_copy(solved(), keep_nbgrader=False), FULL, "repaired")
    add("vscode", vscode_copy(solved()), FULL, "graded")
    add("nbformat3", version3_copy(solved()), FULL, "repaired")
    accented = solved({"q1_diagram": "Caf\u00e9 na\u00efve: W^1 is 4 x 3 (12 weights), ... 48 weights in all."})
    add("latin1", nbformat.writes(accented).encode("latin-1"), FULL, "repaired")
    add("byte_order_mark", b"\xef\xbb\xbf" + encode(solved()), FULL, "repaired")

    # Cells duplicated, split, moved and retyped, all in one notebook.
    notebook = solved()
    wrong = copy.deepcopy(notebook.cells[position(notebook, "q5_h")])
    wrong.source, wrong.id = "def h(t):\n    return 0 * t", "copied-h"
    notebook.cells.insert(position(notebook, "q5_h"), wrong)
    at = position(notebook, "q3_functions")
    first, second = copy.deepcopy(notebook.cells[at]), copy.deepcopy(notebook.cells[at])
    first.source, rest = notebook.cells[at].source.split("\n\n\ndef perturbation_bound")
    second.source, second.id = "def perturbation_bound" + rest, "split-off"
    notebook.cells[at:at + 1] = [first, second]
    moved = notebook.cells.pop(position(notebook, "q1_shapes"))
    notebook.cells.insert(1, own_cell(moved.source))
    for grade_id in ("q5_empirical", "q5_sampler", "q5_theory"):
        notebook.cells.insert(0, notebook.cells.pop(position(notebook, grade_id)))
    notebook.cells.insert(position(notebook, "q2_moments"), notebook.cells.pop(position(notebook, "q2_moments_tests")))
    for grade_id, cell_type in (("q5_h", "markdown"), ("q5_report", "raw")):
        cell = notebook.cells[position(notebook, grade_id)]
        cell.cell_type = cell_type
        del cell["outputs"], cell["execution_count"]
    add("restructured", notebook, FULL, "repaired")

    notebook = solved()
    del notebook.cells[position(notebook, "q1_shapes")]
    add("answer_deleted", notebook, FULL - 1, "repaired")
    add("no_cells", v4.new_notebook(), 0.0, "review")

    notebook = solved({"q2_moments": MISTAKES["q2_moments"]["variance_not_squared"]})
    del notebook.cells[position(notebook, "q2_moments_tests")]
    del notebook.cells[position(notebook, "setup")]
    add("test_and_setup_deleted", notebook, FULL - 1, "repaired")

    notebook = solved({"q5_h": MISTAKES["q5_h"]["h_not_clipped"]})
    tests = notebook.cells[position(notebook, "q5_h_tests")]
    tests.source, tests.metadata.nbgrader["points"] = "pass", 100
    forged = own_cell("print('free points')")
    forged.metadata["nbgrader"] = {"grade": True, "grade_id": "q5_bonus", "locked": True, "points": 50, "schema_version": 3, "solution": False}
    notebook.cells.append(forged)
    add("tests_edited", notebook, MISTAKE_POINTS["h_not_clipped"], "repaired")

    # Runaway code: loops, memory, crashes, exits, floods of output.
    add("loop_in_answer_cell", solved({"q5_empirical": "while True:\n    pass\n" + MISTAKES["q5_empirical"]["uses_np_cov"]}), FULL - 1, "graded")
    add("loop_in_function", solved({"q1_shapes": solution_sources()["q1_shapes"].replace(
        "    return sum(", "    while len(widths) == 2:\n        pass\n    return sum(")}), FULL - 1, "graded")
    add("loop_ignores_interrupt", solved({"q4_moments": "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"}),
        FULL - 2, "graded")
    grab = "def grab():\n    chunks = []\n    while True:\n        chunks.append(bytearray(64 * 2**20))\n\ngrab()\n"
    add("memory_runaway", solved({"q5_empirical": grab + MISTAKES["q5_empirical"]["uses_np_cov"]}), FULL - 1, "graded")
    add("kernel_killed_in_test", solved({"q1_shapes": solution_sources()["q1_shapes"].replace(
        "    return sum(", "    if list(widths) == [5, 2]:\n        import os\n        os._exit(1)\n    return sum(")}), FULL - 1, "graded")
    add("kernel_killed_in_own_cell", with_own_cell(solved(), "intro", "import os\nos._exit(0)"), FULL, "graded")
    notebook = with_own_cell(solved({"q3_constant": solution_sources()["q3_constant"] + "\nimport sys\nsys.exit('done')"}),
                             "intro", "exit()\nquit()")
    add("exits_and_plots", with_own_cell(notebook, "q1_diagram", "import matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()"),
        FULL, "graded")
    noisy = solved({
        "q5_h": solution_sources()["q5_h"].replace("    t = np.clip", "    print('h was called ' + 'x' * 100_000)\n    t = np.clip"),
        "q1_shapes": "import sys, warnings\n" + solution_sources()["q1_shapes"].replace(
            "    return sum(", "    print('counting', widths)\n    print('debug', file=sys.stderr)\n    warnings.warn('a warning')\n    return sum("),
    })
    add("noisy_output", with_own_cell(noisy, "setup", "print('y' * 5_000_000)"), FULL, "graded")

    # Tampering with the kernel the tests run in.
    add("redefines_helpers_and_snoops", with_own_cell(solved({"q2_moments": MISTAKES["q2_moments"]["variance_not_squared"]}), "setup", '''
        import os
        print("listing", sorted(os.listdir(".")))
        print("reachable", [p for p in ("../source", "../gradebook.db", "../../source", "../submitted") if os.path.exists(p)])
        print("environment", sorted(os.environ))

        def assert_close(*args, **kwargs):
            pass

        def assert_equivalent(*args, **kwargs):
            pass
        '''), FULL - 1, "graded")
    add("patches_numpy", with_own_cell(solved({"q2_moments": MISTAKES["q2_moments"]["rows_standardised"],
                                               "q5_empirical": MISTAKES["q5_empirical"]["uses_np_cov"]}), "setup", '''
        import builtins
        np.allclose = lambda *args, **kwargs: True
        np.all = lambda *args, **kwargs: True
        np.abs = lambda x: 0 * np.asarray(x)
        np.testing.assert_allclose = lambda *args, **kwargs: None
        builtins.abs = lambda x: 0
        '''), FULL - 2, "review")
    add("patches_checks", with_own_cell(solved({"q5_empirical": MISTAKES["q5_empirical"]["uses_np_cov"],
                                                "q4_moments": MISTAKES["q4_moments"]["sigma_not_squared"]}), "setup", '''
        import grader.checks
        grader.checks.assert_close = lambda *args, **kwargs: None
        grader.checks.assert_equivalent = lambda *args, **kwargs: None
        grader.checks.assert_within_standard_errors = lambda *args, **kwargs: None
        '''), FULL - 2, "review")
    add("patches_ipython", with_own_cell(solved({"q5_empirical": MISTAKES["q5_empirical"]["uses_np_cov"]}), "setup", '''
        ip = get_ipython()
        ip.input_transformers_post.append(lambda lines: ["pass\\n"] if any("Hidden tests" in line for line in lines) else lines)
        ip.set_custom_exc((Exception,), lambda shell, etype, value, tb, tb_offset=None: None)
        ip.events.register("pre_run_cell", lambda info: setattr(np, "allclose", lambda *args, **kwargs: True))
        '''), FULL - 1, "review")
    add("breaks_guard", with_own_cell(solved(), "setup", "get_ipython().user_expressions = lambda expressions: {}"), 0.0, "review")
    add("imports_lib", solved({"q5_theory": solution_sources()["q5_theory"].replace(
        '    """Return h composed', '    from lib import data\n    """Return h composed').replace(
        "    X = X * np.sqrt(d0) / np.linalg.norm(X, axis=1, keepdims=True)", "    X = data.normalise_rows(X)")}), FULL, "graded")
    path = folder / "modifies_own_file.ipynb"
    add("modifies_own_file", with_own_cell(solved(), "setup", f"open({str(path)!r}, 'a').write('changed')"), FULL, "review")
    return cases


REJECTED = {
    "empty": b"",
    "truncated": encode(solved())[:5000],
    "binary": bytes(range(256)) * 10,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every case in one parallel batch; return (results by student, output folder, hashes)."""
    folder = tmp_path_factory.mktemp("submissions")
    output = tmp_path_factory.mktemp("graded")
    cases = hardening_cases(folder)
    for name, (data, _, _) in cases.items():
        (folder / f"{name}.ipynb").write_bytes(data)
    for name, data in REJECTED.items():
        (folder / f"{name}.ipynb").write_bytes(data)
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "two_notebooks").mkdir()
    (folder / "two_notebooks" / "a.ipynb").write_bytes(encode(solved()))
    (folder / "two_notebooks" / "b.ipynb").write_bytes(encode(solved()))
    (folder / "solved" / "hw1").mkdir(parents=True)
    (folder / "solved" / "hw1" / "hw1.ipynb").write_bytes(encode(solved()))
    hashes = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.ipynb")}

    prepared = assignment.prepare(SOURCE, "hw1")
    os.environ[SECRET_VARIABLE] = "an instructor's token"
    try:
        items, results = batch.autograde_folder(prepared, folder, output, LIMITS)
    finally:
        del os.environ[SECRET_VARIABLE]
    by_student = {result["student"]: result for result in results}
    return {"results": by_student, "cases": cases, "output": output, "folder": folder, "hashes": hashes,
            "prepared": prepared, "items": items}


def notebook_output(graded, student):
    return nbformat.read(graded["output"] / "graded" / f"{student}.ipynb", as_version=4)


def test_every_case_scores_as_documented(graded):
    wrong = {}
    for name, (_, points, status) in graded["cases"].items():
        result = graded["results"][name]
        if (result["auto_points"], result["status"]) != (points, status):
            wrong[name] = {"expected": (points, status), "got": (result["auto_points"], result["status"]), "notes": result["notes"],
                           "messages": [m for q in result["questions"] for m in q["messages"]]}
    assert wrong == {}


def test_solutions_score_full_marks(graded):
    result = graded["results"]["solved"]
    assert result["auto_points"] == result["auto_max"] == FULL
    assert result["manual_max"] == result["manual_pending"] == 7.0
    assert result["auto_max"] + result["manual_max"] == 20.0
    assert result["notes"] == []
    assert result["lib_imports"] == []


def test_missing_written_answers_await_grading(graded):
    result = graded["results"]["no_cells"]
    assert result["manual_pending"] == 7.0
    notes = [note["text"] for note in result["notes"] if note["kind"] == "review"]
    assert len(notes) == 5
    assert all("awaits manual grading" in note for note in notes)


def test_mistake_answers_run_cleanly(graded):
    names = list(MISTAKE_POINTS)
    for name in names:
        notebook = notebook_output(graded, name)
        for cell in notebook.cells:
            if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
                errors = [output.ename for output in cell.outputs if output.output_type == "error"]
                assert errors == [], (name, cell.metadata.nbgrader["grade_id"])


def test_mistake_messages_name_the_problem(graded):
    expected = {
        "transposed_shapes": "transposed",
        "counts_biases": "counts biases",
        "variance_not_squared": "yours / correct = 1/sigma",
        "mean_keeps_mu": "still depends on mu",
        "rows_standardised": "norm 1, not standard deviation 1",
        "first_order_bound": "first-order part",
        "h_not_clipped": "clip t to [-1, 1]",
        "h_composed_L_times": "L - 1 times",
        "unnormalised_inputs": "norm sqrt(d0)",
        "uses_np_cov": "np.cov subtracts the mean",
        "global_random_state": "draw with rng only",
        "fixed_seed": "draw every random number from the rng argument",
    }
    for name, phrase in expected.items():
        messages = " | ".join(m for q in graded["results"][name]["questions"] for m in q["messages"])
        assert phrase in messages, name
    messages = " | ".join(graded["results"]["missing_sqrt2"]["questions"][4]["messages"])
    mean = float(re.search(r"diagonal's mean is ([0-9.]+)", messages).group(1))
    assert abs(mean - 0.5) < 0.05  # one relu without sqrt(2) halves the second moment


def test_runaway_code_is_stopped(graded):
    results = graded["results"]
    assert "q1_shapes_tests: CellTimeoutError" in " ".join(results["loop_in_function"]["questions"][0]["messages"])
    assert any("q5_empirical: CellTimeoutError" in v for v in results["loop_in_answer_cell"]["questions"][4]["visible"])
    for name, grade_id in (("loop_ignores_interrupt", "q4_moments"), ("kernel_killed_in_test", "q1_shapes_tests")):
        notes = " ".join(note["text"] for note in results[name]["notes"])
        assert f"cell {grade_id} was not run" in notes, name
    assert "kernel died" in " ".join(note["text"] for note in results["kernel_killed_in_own_cell"]["notes"])
    assert any("MemoryError" in v for v in results["memory_runaway"]["questions"][4]["visible"])
    for name, result in results.items():
        assert result["seconds"] < LIMITS.submission_timeout, name


def test_plots_kept_in_graded_notebook(graded):
    notebook = notebook_output(graded, "exits_and_plots")
    images = [output for cell in notebook.cells for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    assert len(images) == 1


def test_huge_output_truncated(graded):
    notebook = notebook_output(graded, "noisy_output")
    for cell in notebook.cells:
        text = "".join(output.get("text", "") for output in cell.get("outputs", []))
        assert len(text) <= LIMITS.max_output_chars + 200
    assert (graded["output"] / "feedback" / "noisy_output.html").stat().st_size < 3 * 2**20


def test_tampering_restored_and_reported(graded):
    results = graded["results"]
    numpy_notes = " ".join(note["text"] for note in results["patches_numpy"]["notes"])
    for change in ("numpy.allclose was replaced", "numpy.abs was replaced", "builtins.abs was replaced"):
        assert change in numpy_notes
    assert "grader.checks.assert_close was replaced" in " ".join(note["text"] for note in results["patches_checks"]["notes"])
    ipython_notes = " ".join(note["text"] for note in results["patches_ipython"]["notes"])
    assert "input_transformers_post" in ipython_notes
    assert "custom exception" in ipython_notes
    assert "callbacks for 'pre_run_cell'" in ipython_notes
    assert "integrity check failed" in " ".join(note["text"] for note in results["breaks_guard"]["notes"])


def test_lib_import_flagged(graded):
    assert graded["results"]["imports_lib"]["lib_imports"] == ["q5_theory"]
    rows = list(csv.DictReader(open(graded["output"] / batch.CSV_NAME, encoding="utf-8")))
    flagged = {row["student"]: row["lib_imports"] for row in rows if row["lib_imports"]}
    assert flagged == {"imports_lib": "q5_theory"}
    page = (graded["output"] / "feedback" / "imports_lib.html").read_text(encoding="utf-8")
    assert "importing the course" in page


def test_kernel_sees_no_grader_files(graded):
    notebook = notebook_output(graded, "redefines_helpers_and_snoops")
    text = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "listing []" in text
    assert "reachable []" in text
    environment = text.split("environment ")[1].splitlines()[0]
    assert "PYTEST_CURRENT_TEST" not in environment
    assert SECRET_VARIABLE not in environment
    assert "OPENBLAS_NUM_THREADS" in environment


def test_rejected_files_have_messages(graded):
    results = graded["results"]
    expected = {
        "empty": "empty", "truncated": "JSON breaks at line", "binary": "not a valid notebook",
        "notes": "not a notebook", "two_notebooks": "several notebooks",
    }
    for name, phrase in expected.items():
        assert results[name]["status"] == "rejected", name
        assert phrase in results[name]["notes"][0]["text"], name
    assert results["solved"]["auto_points"] == FULL and results["solved"]["status"] == "graded"


def test_csv_complete(graded):
    rows = list(csv.DictReader(open(graded["output"] / batch.CSV_NAME, encoding="utf-8")))
    students = [row["student"] for row in rows]
    assert sorted(students) == sorted(graded["results"])
    for row in rows:
        assert row["status"] in ("graded", "repaired", "review", "rejected", "failed"), row
        if row["status"] != "rejected":
            assert (graded["output"] / "feedback" / f"{row['student']}.html").is_file(), row["student"]
        if row["status"] == "graded" and row["student"] == "solved":
            assert [row[f"q{n}"] for n in range(1, 6)] == ["1", "2", "2", "2", "6"]
            assert (row["total"], row["autograded_max"], row["written_to_grade"]) == ("13", "13", "7")


def test_feedback_never_shows_hidden_tests(graded):
    hidden = feedback.hidden_lines(graded["prepared"])
    for page in (graded["output"] / "feedback").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text, page.name
        leaked = [line for line in hidden if line in text]
        assert leaked == [], page.name
    for result in graded["results"].values():
        shown = json.dumps(result["questions"]) + json.dumps(result["notes"])
        assert not [line for line in hidden if line in shown], result["student"]


def test_submissions_never_modified(graded):
    changed = [path.name for path, digest in graded["hashes"].items() if hashlib.sha256(path.read_bytes()).hexdigest() != digest]
    assert changed == ["modifies_own_file.ipynb"]
    notes = " ".join(note["text"] for note in graded["results"]["modifies_own_file"]["notes"])
    assert "changed on disk during grading" in notes


def test_grade_command_in_c_locale(tmp_path):
    notebook = tmp_path / "my homework.ipynb"
    notebook.write_bytes(encode(solved({"q5_empirical": MISTAKES["q5_empirical"]["uses_np_cov"],
                                         "q1_diagram": "Unicode in an answer: \u03c3\u00b2 and \u2211 w\u1d62 = 0"})))
    before = hashlib.sha256(notebook.read_bytes()).hexdigest()
    page = tmp_path / "feedback.html"
    environment = {**os.environ, "LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "hw1", "--notebook", str(notebook), "--feedback", str(page), "--cell-timeout", "30"],
        capture_output=True, env=environment, cwd=tmp_path, timeout=300,
    )
    out = completed.stdout.decode("ascii", errors="replace")
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")
    assert hashlib.sha256(notebook.read_bytes()).hexdigest() == before
    assert "total: 12 of 13 autograded points" in out
    assert "q5_empirical_tests: AssertionError" in out and "np.cov" in out
    assert "written answers worth 7 points await manual grading (maximum 20)" in out
    assert str(page) in out and page.is_file()
    prepared = assignment.prepare(SOURCE, "hw1")
    for line in feedback.hidden_lines(prepared):
        assert line not in out and line not in page.read_text(encoding="utf-8")
    assert completed.stderr == b""
