"""Time the grader for tools/bench.py: one `grade` command, and a batch with one worker against all cores."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import assignment, batch, settings


def time_grade_command(source_root, name):
    """Return the wall-clock seconds of ``python -m grader grade`` on the source notebook, start to finish."""
    with tempfile.TemporaryDirectory() as folder:
        notebook = Path(folder) / f"{name}.ipynb"
        shutil.copyfile(Path(source_root) / name / f"{name}.ipynb", notebook)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "grader", "grade", name, "--source", str(source_root), "--notebook", str(notebook),
             "--feedback", str(Path(folder) / "feedback.html")],
            check=True, capture_output=True, cwd=folder,
        )
        return time.perf_counter() - start


def time_batch(prepared, source_notebook, count, workers):
    """Return (wall-clock seconds, mean seconds per submission) to autograde ``count`` copies."""
    with tempfile.TemporaryDirectory() as folder:
        submissions = Path(folder) / "submissions"
        submissions.mkdir()
        for number in range(count):
            shutil.copyfile(source_notebook, submissions / f"student{number:02d}.ipynb")
        start = time.perf_counter()
        _, results = batch.autograde_folder(prepared, submissions, Path(folder) / "output", settings.Limits(), workers)
        elapsed = time.perf_counter() - start
    if any(result["auto_points"] != result["auto_max"] for result in results):
        raise RuntimeError("a copy of the source notebook did not get full marks")
    return elapsed, sum(result["seconds"] for result in results) / count


def measure(name="hw1", count=20, source_root=settings.REPOSITORY / "homework" / "source"):
    """Print and return the markdown lines of the grading section of docs/benchmarks.md."""
    single = time_grade_command(source_root, name)
    print(f"grading: one {name} submission with `grade`: {single:.1f} s", flush=True)

    prepared = assignment.prepare(source_root, name)
    notebook = Path(source_root) / name / f"{name}.ipynb"
    cores = os.cpu_count() or 1
    time_batch(prepared, notebook, 1, 1)  # starts the worker processes' forkserver before timing
    sequential, per_submission = time_batch(prepared, notebook, count, 1)
    parallel, _ = time_batch(prepared, notebook, count, cores)
    speedup = sequential / parallel
    print(f"grading: {count} submissions, 1 worker {sequential:.1f} s, {cores} workers {parallel:.1f} s, speed-up {speedup:.2f}", flush=True)
    return [
        f"## Homework grading ({name}, the source notebook graded as a submission)",
        "",
        f"- `python -m grader grade` on one submission, interpreter start to feedback page: {single:.1f} s.",
        f"- One submission inside a batch (worker process, kernel, tests, feedback page): {per_submission:.1f} s on average.",
        f"- {count} submissions with one worker: {sequential:.1f} s; with {cores} workers: {parallel:.1f} s; speed-up {speedup:.2f}.",
    ]
