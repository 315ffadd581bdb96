"""Grade one submission: read it, rebuild it, run nbgrader's autograde on it, collect the result.

``grade`` runs in a process of its own (see grader.batch) and never touches the submitted
file, because it receives the file's bytes. nbgrader works in a private temporary course
folder that contains the gradebook but no source notebook. The kernel runs in another
temporary folder that contains only the assignment's data files. When a cell kills the
kernel, or keeps running after the interrupt, that cell is skipped and the notebook is
graded again from the start, at most ``Limits.max_kernel_restarts`` times.
"""

import ctypes
import hashlib
import io
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from grader import assignment, execute, feedback, scoring, settings, submission
from grader.repair import Rebuild

WORKER_MEMORY_MB = 4096
PR_SET_CHILD_SUBREAPER = 36


class GradingError(Exception):
    """nbgrader could not grade the rebuilt notebook (a fault of the grader or the source)."""


class KernelStartFailed(GradingError):
    """The grading kernel died before any cell ran, so no student code can have caused it."""


def _become_subreaper():
    """Keep orphaned processes of the kernel as children of this worker, so they can be killed."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def kill_descendants(pid=None):
    """Kill every process below ``pid`` (default: this process)."""
    import psutil

    try:
        children = psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(children, timeout=5)


def _limit_worker_memory():
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = WORKER_MEMORY_MB * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass  # macOS rejects RLIMIT_AS


def _autograde_once(notebook, prepared, limits, skipped, log_handler):
    """Run nbgrader's autograde once; return (graded notebook, run log, scores) or raise."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput

    name = prepared.name
    with tempfile.TemporaryDirectory(prefix="grader-course-") as course, tempfile.TemporaryDirectory(prefix="grader-kernel-") as work:
        course = Path(course)
        (course / "source" / name).mkdir(parents=True)
        submitted = course / "submitted" / settings.INTERNAL_STUDENT / name
        submitted.mkdir(parents=True)
        nbformat.write(notebook, submitted / f"{name}.ipynb")
        (course / "gradebook.db").write_bytes(prepared.gradebook)
        for relative, data in prepared.data_files.items():
            target = Path(work) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        config = assignment.nbgrader_config(course, name)
        config.CourseDirectory.student_id = settings.INTERNAL_STUDENT
        config.Autograde.autograde_preprocessors = [
            execute.GuardedExecute,
            IgnorePattern,
            ClearMetadataPreprocessor,
            LimitOutput,
            scoring.SaveScores,
            AssignLatePenalties,
            CheckCellMetadata,
        ]
        config.GuardedExecute.work_dir = work
        config.GuardedExecute.timeout = int(limits.cell_timeout)
        config.GuardedExecute.iopub_timeout = 2
        config.GuardedExecute.max_output_chars = limits.max_output_chars
        config.GuardedExecute.skipped = {str(index): reason for index, reason in skipped.items()}
        config.LimitedKernelManager.memory_mb = limits.kernel_memory_mb
        config.LimitedKernelManager.file_mb = limits.kernel_file_mb

        assignment.quiet_nbgrader_logs(log_handler)
        execute.RUNS.clear()
        scoring.SCORES.clear()
        converter = Autograde(coursedir=CourseDirectory(config=config), config=config)
        try:
            converter.start()
            failure = None
        except Exception as error:  # nbgrader wraps every failure in NbGraderException
            failure = error
        finally:
            kill_descendants()

        run_log = execute.RUNS[-1] if execute.RUNS else None
        if run_log is not None and run_log.get("stopped"):
            raise execute.KernelStopped(*run_log["stopped"])
        graded_path = course / "autograded" / settings.INTERNAL_STUDENT / name / f"{name}.ipynb"
        ran = run_log is not None and any(index not in skipped for index in run_log["cells"])
        if failure is not None and not ran:
            raise KernelStartFailed(f"the grading kernel did not start: {failure}")
        if failure is not None or not graded_path.is_file() or not scoring.SCORES:
            raise GradingError(f"nbgrader's autograde failed: {failure or 'no graded notebook was written'}")
        return nbformat.read(graded_path, as_version=4), run_log, scoring.SCORES[-1]


def _visible_failures(graded, roles):
    """Return [(question or None, message)] for read-only code cells and answer cells that raised."""
    failures = []
    for cell in graded.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or roles.get(grade_id) not in ("fixed", "answer"):
            continue
        for output in cell.get("outputs", []):
            if output.output_type != "error":
                continue
            if roles[grade_id] == "answer" and output.ename == "NotImplementedError":
                continue
            text = scoring.clean_text(f"{output.ename}: {output.evalue}" if output.evalue else output.ename)
            failures.append((assignment.question_of(grade_id), f"{grade_id}: {text}"))
    return failures


def _collect_notes(rebuild, graded, run_log, scores, skipped):
    """Return the notes of a graded submission: repairs, skipped cells, kernel changes, scores to review."""
    notes = [{"kind": kind, "text": text} for kind, text in rebuild.notes]
    for index, reason in sorted(skipped.items()):
        grade_id = graded.cells[index].metadata.get("nbgrader", {}).get("grade_id")
        label = f"cell {grade_id}" if grade_id else f"your own cell at position {index + 1}"
        notes.append({"kind": "info", "text": f"{label} was not run: {reason}; the notebook was graded again without it"})
    if run_log.get("tampered_at") is not None:
        notes.append({"kind": "review", "text": "the grading kernel was modified so that its integrity check failed; later tests scored 0"})
    changes = sorted({change for report in run_log["guard"].values() for change in report["changes"]})
    if changes:
        shown = "; ".join(changes[:8]) + (f"; and {len(changes) - 8} more" if len(changes) > 8 else "")
        notes.append({"kind": "review", "text": "the notebook modified the grading kernel; restored before the tests: " + shown})
    for score in scores.values():
        notes += [{"kind": "review", "text": f"{score.grade_id}: {reason}"} for reason in score.review]
    return notes


def _tally_questions(prepared, scores, visible_failures, notes):
    """Return the per-question points and messages; failures outside any question become notes."""
    def empty(number, title):
        return {"number": number, "title": title, "auto_points": 0.0, "auto_max": 0.0,
                "manual_max": 0.0, "manual_pending": 0.0, "messages": [], "visible": []}

    questions = {number: empty(number, title) for number, title in sorted(prepared.questions.items())}
    for grade_id, score in scores.items():
        number = assignment.question_of(grade_id)
        entry = questions.setdefault(number, empty(number, ""))
        if score.kind == "test":
            entry["auto_points"] += score.points
            entry["auto_max"] += score.max_points
        else:
            entry["manual_max"] += score.max_points
            entry["manual_pending"] += score.max_points if score.points is None else 0.0
        if score.message and score.message != "awaits manual grading":
            entry["messages"].append(f"{grade_id}: {score.message}")
    for number, message in visible_failures:
        if number in questions:
            questions[number]["visible"].append(message)
        else:
            notes.append({"kind": "info", "text": f"read-only cell {message}"})
    return [questions[number] for number in sorted(questions, key=lambda n: (n is None, n or 0))]


def summarise(student, prepared, rebuild, graded, run_log, scores, skipped):
    """Return the JSON-ready result of a graded submission, with hidden test code scrubbed from its messages."""
    hidden = feedback.hidden_lines(prepared)
    for score in scores.values():
        score.message = feedback.scrub(score.message, hidden)
    visible_failures = [(number, feedback.scrub(message, hidden)) for number, message in _visible_failures(graded, prepared.cell_roles())]

    notes = _collect_notes(rebuild, graded, run_log, scores, skipped)
    questions = _tally_questions(prepared, scores, visible_failures, notes)
    lib_imports = list(dict.fromkeys(rebuild.lib_imports))
    if any(report.get("lib_loaded") for report in run_log["guard"].values()) and not lib_imports:
        lib_imports.append("imported at run time")

    kinds = {note["kind"] for note in notes}
    if "review" in kinds:
        status = "review"
    elif "repair" in kinds:
        status = "repaired"
    else:
        status = "graded"
    return {
        "student": student,
        "assignment": prepared.name,
        "status": status,
        "notes": notes,
        "lib_imports": lib_imports,
        "questions": questions,
        "cells": {grade_id: {"points": s.points, "max_points": s.max_points, "kind": s.kind, "message": s.message}
                  for grade_id, s in scores.items()},
        "auto_points": sum(q["auto_points"] for q in questions),
        "auto_max": sum(q["auto_max"] for q in questions),
        "manual_max": sum(q["manual_max"] for q in questions),
        "manual_pending": sum(q["manual_pending"] for q in questions),
    }


def failed_result(student, prepared, status, message):
    """Return the result of a submission that could not be graded: no points, a status and a message."""
    questions = [{"number": number, "title": title, "auto_points": None, "auto_max": None, "manual_max": None,
                  "manual_pending": None, "messages": [], "visible": []} for number, title in sorted(prepared.questions.items())]
    return {"student": student, "assignment": prepared.name, "status": status, "notes": [{"kind": status, "text": message}],
            "lib_imports": [], "questions": questions, "cells": {}, "auto_points": 0.0 if status == "rejected" else None,
            "auto_max": None, "manual_max": None, "manual_pending": None}


def grade(job):
    """Grade the submission described by ``job`` (a dict, see grader.batch.make_job); return its result.

    Writes the feedback page, the graded notebook and the log when the job names paths for them.
    """
    started = time.monotonic()
    _become_subreaper()
    _limit_worker_memory()
    prepared, limits, student = job["prepared"], job["limits"], job["student"]
    log_stream = io.StringIO()
    log_handler = logging.StreamHandler(log_stream)
    log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

    try:
        result = _grade(job, prepared, limits, student, log_handler)
    except Exception as error:  # the batch must go on: report the fault in this row
        logging.getLogger("traitlets").exception("grading failed")
        result = failed_result(student, prepared, "failed", f"the grader failed on this submission: {type(error).__name__}: {error}")
    finally:
        kill_descendants()

    result["sha256"] = hashlib.sha256(job["data"]).hexdigest() if job.get("data") is not None else None
    result["source_sha256"] = getattr(prepared, "source_sha256", None)
    result["seconds"] = round(time.monotonic() - started, 2)
    if job.get("log_path"):
        Path(job["log_path"]).write_text(log_stream.getvalue(), encoding="utf-8")
    return result


def _grade(job, prepared, limits, student, log_handler):
    if job.get("reject"):
        return failed_result(student, prepared, "rejected", job["reject"])
    try:
        parsed = submission.read(job["data"], limits.max_notebook_mb * 2**20)
    except submission.Rejected as error:
        return failed_result(student, prepared, "rejected", str(error))

    rebuild = Rebuild(parsed, prepared)
    skipped = {}
    stops, start_failures = 0, 0
    while True:
        try:
            graded, run_log, scores = _autograde_once(rebuild.notebook, prepared, limits, skipped, log_handler)
            break
        except execute.KernelStopped as stop:
            skipped[stop.cell_index] = stop.reason
            stops += 1
            if stops > limits.max_kernel_restarts:
                reasons = "; ".join(f"cell {index}: {reason}" for index, reason in skipped.items())
                return failed_result(student, prepared, "failed", f"the kernel stopped {len(skipped)} times ({reasons}); grade this submission by hand")
        except KernelStartFailed:
            # A kernel that dies before its first cell (seen now and then on a loaded machine)
            # is started once more; no student code ran, so it is not one of the kernel stops.
            if start_failures == 1:
                raise
            start_failures += 1

    result = summarise(student, prepared, rebuild, graded, run_log, scores, skipped)
    if job.get("notebook_path"):
        nbformat.write(graded, job["notebook_path"])
    if job.get("feedback_path"):
        feedback.write_html(graded, prepared, result, job["feedback_path"])
    return result
