"""Grade many submissions in parallel, each in a process of its own with a wall-clock limit.

Submissions are read into memory before any grading starts, so code in one submission that
writes to the submissions folder cannot change what another one is graded on. Afterwards
each file is hashed again and a change is reported. Worker processes are forked from a
forkserver that has already imported nbgrader, so starting one costs milliseconds instead
of the seconds nbgrader's imports take.
"""

import csv
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import stat
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from grader import settings

IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX", ".ipynb_checkpoints"}
PRELOADED = ["grader.preload"]
CSV_NAME = "grades.csv"


@dataclass
class Item:
    """One row of the batch: a student id, the file to grade (or a reason not to), its bytes."""

    student: str
    path: Path | None
    reject: str | None = None
    data: bytes | None = None
    sha256: str | None = None
    file_name: str = ""  # base name of this row's output files


def _notebooks_in(folder):
    return sorted(p for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith(".") and p.is_file())


def _pick_notebook(folder, name):
    """Return (path, reject) for a student's folder: nbgrader's layout, NAME.ipynb or a single notebook."""
    for candidate in (folder / name / f"{name}.ipynb", folder / f"{name}.ipynb"):
        if candidate.is_file() or candidate.is_symlink():
            return candidate, None
    candidates = _notebooks_in(folder) + (_notebooks_in(folder / name) if (folder / name).is_dir() else [])
    if len(candidates) == 1:
        return candidates[0], None
    if not candidates:
        return None, f"no notebook found in the folder {folder.name}; submit {name}.ipynb"
    names = ", ".join(p.name for p in candidates[:5])
    return None, f"the folder {folder.name} holds several notebooks ({names}) and none is named {name}.ipynb; keep one"


def discover(folder, name):
    """Return the Items of a submissions folder: one per notebook file or per student folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder not found: {folder}")
    items = []
    seen = set()
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in IGNORED_NAMES:
            continue
        student = entry.stem if entry.is_file() else entry.name
        if student in seen:
            student = entry.name
        seen.add(student)
        if entry.is_symlink():
            items.append(Item(student, entry, "the submission is a symbolic link; submit the notebook file itself"))
        elif entry.is_dir():
            path, reject = _pick_notebook(entry, name)
            items.append(Item(student, path, reject))
        elif entry.suffix == ".ipynb":
            items.append(Item(student, entry))
        else:
            items.append(Item(student, entry, f"{entry.name} is not a notebook (.ipynb); submit {name}.ipynb"))
    return items


def read_item(item, max_bytes):
    """Read the item's file into memory (refusing symbolic links and oversized files)."""
    if item.reject or item.path is None:
        return item
    try:
        info = os.lstat(item.path)
        if stat.S_ISLNK(info.st_mode):
            item.reject = "the submission is a symbolic link; submit the notebook file itself"
            return item
        if info.st_size > max_bytes:
            item.reject = (f"the file is larger than {max_bytes // 2**20} MB; clear the outputs "
                           "(Kernel > Restart Kernel and Clear Outputs of All Cells), save and submit again")
            return item
        descriptor = os.open(item.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as handle:
            item.data = handle.read(max_bytes + 1)
    except OSError as error:
        item.reject = f"the file could not be read: {error.strerror}"
        return item
    item.sha256 = hashlib.sha256(item.data).hexdigest()
    return item


def safe_name(student):
    """Return ``student`` as a file name (letters, digits and . _ @ - only)."""
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", student).strip(".") or "student"


def make_job(item, prepared, limits, outputs):
    """Return the job dict for grader.worker.grade; ``outputs`` maps kinds to paths or None."""
    return {
        "student": item.student,
        "data": item.data,
        "reject": item.reject,
        "prepared": prepared,
        "limits": limits,
        "feedback_path": outputs.get("feedback"),
        "notebook_path": outputs.get("notebook"),
        "log_path": outputs.get("log"),
    }


def _run_in_child(job, connection, scratch):
    from grader import worker

    # Every temporary folder of this job (the private course folder with the hidden tests, the
    # kernel's folder) goes under scratch, which the parent removes even after killing this process.
    tempfile.tempdir = scratch
    try:
        connection.send(worker.grade(job))
    finally:
        connection.close()


def _kill_tree(process):
    from grader.worker import kill_descendants

    kill_descendants(process.pid)
    process.kill()
    process.join(5)


def start_workers():
    """Start the forkserver now, so that its imports overlap with the caller's own work."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOADED)
    from multiprocessing import forkserver

    forkserver.ensure_running()
    return context


def run_jobs(jobs, limits, workers, on_result=None):
    """Run grader.worker.grade on every job, ``workers`` at a time; return the results in job order.

    A job that does not finish within ``limits.submission_timeout`` seconds, or whose process
    dies, gets a result with status "failed" and the batch goes on.
    """
    from grader import worker

    context = start_workers()
    pending = deque(enumerate(jobs))
    running = {}  # connection -> (index, job, process, start)
    results = [None] * len(jobs)
    scratches = {}  # connection -> the job's temporary folder

    def finish(index, job, result):
        results[index] = result
        if on_result is not None:
            on_result(index, result)

    while pending or running:
        while pending and len(running) < workers:
            index, job = pending.popleft()
            receiver, sender = context.Pipe(duplex=False)
            scratch = tempfile.mkdtemp(prefix="grader-job-")
            process = context.Process(target=_run_in_child, args=(job, sender, scratch), name=f"grade-{job['student']}")
            process.start()
            sender.close()
            running[receiver] = (index, job, process, time.monotonic())
            scratches[receiver] = scratch

        ready = multiprocessing.connection.wait(list(running), timeout=0.5)
        for receiver in ready:
            index, job, process, start = running.pop(receiver)
            try:
                result = receiver.recv()
            except (EOFError, OSError):
                process.join(5)
                result = worker.failed_result(
                    job["student"], job["prepared"], "failed",
                    f"the grading process ended unexpectedly (exit code {process.exitcode}); grade this submission by hand",
                )
            receiver.close()
            process.join(5)
            if process.is_alive():
                _kill_tree(process)
            shutil.rmtree(scratches.pop(receiver), ignore_errors=True)
            finish(index, job, result)

        now = time.monotonic()
        for receiver, (index, job, process, start) in list(running.items()):
            if now - start > limits.submission_timeout:
                _kill_tree(process)
                running.pop(receiver)
                receiver.close()
                shutil.rmtree(scratches.pop(receiver), ignore_errors=True)
                result = worker.failed_result(
                    job["student"], job["prepared"], "failed",
                    f"grading did not finish within {limits.submission_timeout:g} s and was stopped; "
                    "grade by hand or run again with a larger --timeout",
                )
                result["seconds"] = round(now - start, 2)
                finish(index, job, result)
    return results


def csv_rows(results, items, prepared):
    """Return the rows of grades.csv: one per submission, in the order of ``items``."""
    numbers = sorted(prepared.questions)
    header = ["student"] + [f"q{n}" for n in numbers] + [
        "total", "autograded_max", "written_to_grade", "status", "lib_imports", "message", "file", "sha256",
    ]
    rows = [header]
    for item, result in zip(items, results):
        points = {q["number"]: q["auto_points"] for q in result["questions"]}
        if result["status"] == "rejected":
            cells = [0] * len(numbers)
        else:
            cells = ["" if points.get(n) is None else f"{points[n]:g}" for n in numbers]
        total = "" if result["auto_points"] is None else f"{result['auto_points']:g}"
        auto_max = "" if result["auto_max"] is None else f"{result['auto_max']:g}"
        written = "" if result["manual_pending"] is None else f"{result['manual_pending']:g}"
        message = "; ".join(note["text"] for note in result["notes"])
        rows.append([item.student, *cells, total, auto_max, written, result["status"],
                     "; ".join(result["lib_imports"]), message,
                     str(item.path) if item.path else "", item.sha256 or ""])
    return rows


def check_unchanged(items, results):
    """Mark results whose file changed on disk while the batch ran."""
    for item, result in zip(items, results):
        if item.data is None or item.path is None:
            continue
        try:
            current = hashlib.sha256(item.path.read_bytes()).hexdigest()
        except OSError:
            current = None
        if current != item.sha256:
            result["notes"].append({"kind": "review", "text": "the file changed on disk during grading; "
                                    f"the grade is for the version read at the start (sha256 {item.sha256[:12]})"})
            if result["status"] in ("graded", "repaired"):
                result["status"] = "review"


def autograde_folder(prepared, submissions, output, limits=settings.Limits(), workers=None, on_result=None):
    """Grade every submission in ``submissions``; write grades.csv and per-student files to ``output``."""
    output = Path(output)
    items = [read_item(item, limits.max_notebook_mb * 2**20) for item in discover(submissions, prepared.name)]
    for kind in ("feedback", "graded", "logs", "results"):
        (output / kind).mkdir(parents=True, exist_ok=True)

    jobs = []
    names = set()
    for item in items:
        name = safe_name(item.student)
        while name in names:
            name += "_"
        names.add(name)
        outputs = {
            "feedback": str(output / "feedback" / f"{name}.html"),
            "notebook": str(output / "graded" / f"{name}.ipynb"),
            "log": str(output / "logs" / f"{name}.log"),
        }
        jobs.append(make_job(item, prepared, limits, outputs))
        item.file_name = name

    workers = workers or os.cpu_count() or 1
    results = run_jobs(jobs, limits, workers, on_result)
    check_unchanged(items, results)

    for item, result in zip(items, results):
        path = output / "results" / f"{item.file_name}.json"
        path.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    with open(output / CSV_NAME, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(csv_rows(results, items, prepared))
    return items, results
