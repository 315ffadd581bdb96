"""Homework 2 graded end to end: the solutions, the blank and one submission per common mistake,
all in one parallel batch, plus the release's sync with the source.

Every mistake's submission is generated here: the release with the source's solutions filled
in, then one or two answer cells replaced. Each case states the autograded points it must
get. Full marks are 14: the 13 points of questions 1 to 3 plus the bonus point of question 4
(extra credit). The 7 + 1 points of written answers always await manual grading.
"""

import csv
from pathlib import Path

import nbformat
import pytest

import homework_solutions
from grader import assignment, batch, feedback, release, settings

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "homework" / "source"
RELEASE_ROOT = ROOT / "homework" / "release"
RELEASE = RELEASE_ROOT / "hw2" / "hw2.ipynb"
AUTOGRADED = 13.0  # questions 1 to 3
BONUS = 1.0  # question 4, extra credit
FULL = AUTOGRADED + BONUS
QUESTION_POINTS = {1: 6.5, 2: 3.0, 3: 3.5, 4: 1.0}
LIMITS = settings.Limits(cell_timeout=10, submission_timeout=120, kernel_memory_mb=2048)


def solution_sources():
    return homework_solutions.solution_sources("hw2")


def solved(changes=None):
    """Return the hw2 release notebook with the source's answers, then ``changes`` ({grade_id: source})."""
    return homework_solutions.solved("hw2", changes)


def edited_solution(grade_id, old, new):
    """Return the source's answer of ``grade_id`` with ``old`` replaced by ``new`` (which must occur)."""
    source = solution_sources()[grade_id]
    assert old in source, f"the solution of {grade_id} no longer contains {old!r}; update this mistake"
    return source.replace(old, new)


def encode(notebook):
    return nbformat.writes(notebook).encode("utf-8")


# Common mistakes: (changed answer cells, autograded points it must get, phrase its messages contain).
MISTAKES = {
    "model_missing_linear_term": ({"q1_model": '''
        def model_gradient(h, W, dW, g):
            moved = [w + d for w, d in zip(W, dW)]
            model = sum(g_i * d for g_i, d in zip(g, dW)) + h(moved) - h(list(W))
            return [sp.diff(model, d) for d in dW]
        '''}, FULL - 2, "-grad h(W).dW is missing"),
    "mirror_sign_flipped": ({"q1_step": edited_solution("q1_step", "grad_h(W) - np.asarray(g", "grad_h(W) + np.asarray(g")},
                            FULL - 2.5, "moves along +g"),
    "newton_without_damping": ({"q1_step": '''
        def mirror_step(W, g, h, grad_h, hess_h):
            W = np.asarray(W, dtype=float)
            theta = grad_h(W) - np.asarray(g, dtype=float)
            V = W.copy()
            for _ in range(50):
                V = V - np.linalg.solve(np.atleast_2d(hess_h(V)), grad_h(V) - theta)
            return V
        '''}, FULL - 1.5, "mirror_step for the negative entropy"),
    "entropic_plus_g": ({"q1_entropic": '''
        def entropic_update_symbolic(W, g):
            return [w * sp.exp(g_i) for w, g_i in zip(W, g)]

        def entropic_update(W, g):
            return np.asarray(W, dtype=float) * np.exp(np.asarray(g, dtype=float))
        '''}, FULL - 2, "multiplies by exp(+g)"),
    "cover_sum_to_d": ({"q2_count": edited_solution("q2_count", "range(d)", "range(d + 1)")}, FULL - 3, "the sum has d terms"),
    "cover_binomial_of_N": ({"q2_count": edited_solution("q2_count", "math.comb(N - 1, k)", "math.comb(N, k)")},
                            FULL - 3, "binomials are binom(N - 1, k)"),
    # Floats pass the plot's test (its data are floats) but not the exact count and ratios.
    "cover_float_binomial": ({
        "q2_count": '''
            from scipy.special import comb

            def cover_count(N, d):
                return 2 * sum(comb(N - 1, k) for k in range(d))
            ''',
        "q2_plot": edited_solution("q2_plot", "[Fraction(cover_count(N, d), 2**N)", "[cover_count(N, d) / 2**N"),
    }, FULL - 2.5, "must return a Python int, got float"),
    # A KL that ignores outcomes outside supp p is finite there, and so is the bound built on it.
    "kl_ignores_support": ({"q3_kl": '''
        def kl_divergence(q, p):
            q, p = np.asarray(q, dtype=float), np.asarray(p, dtype=float)
            both = (q > 0) & (p > 0)
            return float(np.sum(q[both] * np.log(q[both] / p[both])))
        '''}, FULL - 2.5, "must not be dropped"),
    "kl_in_bits": ({"q3_kl": edited_solution("q3_kl", "np.log(q[support]", "np.log2(q[support]")}, FULL - 2.5, "natural logarithms"),
    "dv_expectation_under_q": ({"q3_bound": edited_solution("q3_bound", "np.sum(p * np.exp(beta * h))", "np.sum(np.asarray(q) * np.exp(beta * h))")},
                               FULL - 1.5, "over the prior p, not over the posterior q"),
    "gibbs_sign_flipped": ({"q3_bound": edited_solution("q3_bound", "np.exp(beta * (h - np.max(h)))", "np.exp(-beta * (h - np.min(h)))")},
                           FULL - 1, "p exp(+beta h)"),
    "extra_credit_ignores_degeneracy": ({"q4_count": '''
        def count_separable_dichotomies(X):
            N, d = np.shape(X)
            return 2 * sum(math.comb(N - 1, k) for k in range(d))
        '''}, FULL - BONUS, "holds only in general position"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the solutions, the blank and every mistake in one parallel batch."""
    folder = tmp_path_factory.mktemp("submissions")
    output = tmp_path_factory.mktemp("graded")
    cases = {
        "solutions": ((SOURCE / "hw2" / "hw2.ipynb").read_bytes(), FULL),
        "blank": (RELEASE.read_bytes(), 0.0),
    }
    for name, (changes, points, _) in MISTAKES.items():
        cases[name] = (encode(solved(changes)), points)
    for name, (data, _) in cases.items():
        (folder / f"{name}.ipynb").write_bytes(data)

    prepared = assignment.prepare(SOURCE, "hw2")
    _, results = batch.autograde_folder(prepared, folder, output, LIMITS)
    return {"results": {result["student"]: result for result in results}, "cases": cases, "output": output, "prepared": prepared}


def notebook_output(graded, student):
    return nbformat.read(graded["output"] / "graded" / f"{student}.ipynb", as_version=4)


def messages(result):
    return " | ".join(message for question in result["questions"] for message in question["messages"])


def test_every_case_scores_as_documented(graded):
    wrong = {}
    for name, (_, points) in graded["cases"].items():
        result = graded["results"][name]
        if (result["auto_points"], result["status"]) != (points, "graded"):
            wrong[name] = {"expected": points, "got": (result["auto_points"], result["status"]), "notes": result["notes"],
                           "messages": messages(result)}
    assert wrong == {}


def test_solutions_score_full_marks(graded):
    result = graded["results"]["solutions"]
    assert result["auto_points"] == result["auto_max"] == FULL
    assert {q["number"]: q["auto_points"] for q in result["questions"]} == QUESTION_POINTS
    assert result["manual_max"] == result["manual_pending"] == 8.0
    assert result["notes"] == []
    assert result["lib_imports"] == []
    # Questions 1 to 3 make the 20 points of the homework; question 4 is the bonus.
    core = [q for q in result["questions"] if q["number"] != 4]
    assert sum(q["auto_max"] + q["manual_max"] for q in core) == 20.0


def test_blank_raises_only_not_implemented(graded):
    result = graded["results"]["blank"]
    assert result["auto_points"] == 0.0 and result["manual_pending"] == 0.0
    errors = [output.ename for cell in notebook_output(graded, "blank").cells
              for output in cell.get("outputs", []) if output.output_type == "error"]
    assert errors and set(errors) == {"NotImplementedError"}


def test_mistake_answers_run_cleanly(graded):
    for name in MISTAKES:
        for cell in notebook_output(graded, name).cells:
            if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
                errors = [output.ename for output in cell.outputs if output.output_type == "error"]
                assert errors == [], (name, cell.metadata.nbgrader["grade_id"])


def test_mistake_messages_name_the_problem(graded):
    missing = {name: messages(graded["results"][name]) for name, (_, _, phrase) in MISTAKES.items()
               if phrase not in messages(graded["results"][name])}
    assert missing == {}


def test_extra_credit_in_own_column(graded):
    rows = {row["student"]: row for row in csv.DictReader(open(graded["output"] / batch.CSV_NAME, encoding="utf-8"))}
    assert [rows["solutions"][f"q{n}"] for n in range(1, 5)] == ["6.5", "3", "3.5", "1"]
    assert (rows["solutions"]["total"], rows["solutions"]["autograded_max"], rows["solutions"]["written_to_grade"]) == ("14", "14", "8")
    assert [rows["extra_credit_ignores_degeneracy"][f"q{n}"] for n in range(1, 5)] == ["6.5", "3", "3.5", "0"]


def test_feedback_never_shows_hidden_tests(graded):
    hidden = feedback.hidden_lines(graded["prepared"])
    assert hidden
    for page in (graded["output"] / "feedback").glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text, page.name
        assert [line for line in hidden if line in text] == [], page.name


def test_release_matches_source(graded):
    states = release.release(graded["prepared"], RELEASE_ROOT, check=True)
    assert states == [(RELEASE, "unchanged")]
    text = RELEASE.read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
