"""Command line of the homework grader: release, grade (one notebook) and autograde (a class).

    python -m grader release hw1 [--check] [--force]
    python -m grader grade hw1 [--notebook PATH]
    python -m grader autograde hw1 --submissions DIR [--output DIR]

Run ``python -m grader COMMAND --help`` for the options. ``make release``, ``make grade`` and
``make autograde`` call these commands.
"""

import argparse
import sys
import time
from pathlib import Path

from grader import settings

DEFAULT_SOURCE = settings.REPOSITORY / "homework" / "source"
DEFAULT_RELEASE = settings.REPOSITORY / "homework" / "release"


def _limits(args):
    defaults = settings.Limits()
    return settings.Limits(
        cell_timeout=args.cell_timeout if args.cell_timeout is not None else defaults.cell_timeout,
        submission_timeout=args.timeout if args.timeout is not None else defaults.submission_timeout,
        kernel_memory_mb=args.memory_mb if args.memory_mb is not None else defaults.kernel_memory_mb,
    )


def _prepare(args):
    from grader import assignment

    return assignment.prepare(args.source, args.assignment)


def command_release(args):
    from grader import release

    try:
        states = release.prepare_and_release(args.source, args.release, args.assignment, force=args.force, check=args.check)
    except release.ReleaseError as error:
        print(f"release not written: {error}", file=sys.stderr)
        return 1
    for path, state in states:
        print(f"{path}: {state}")
    if args.check and any(state != "unchanged" for _, state in states):
        print(f"the release is out of date with {args.source}; run make release", file=sys.stderr)
        return 1
    return 0


def command_grade(args):
    from grader import batch, feedback

    batch.start_workers()
    notebook = Path(args.notebook) if args.notebook else Path(args.release) / args.assignment / f"{args.assignment}.ipynb"
    if not notebook.is_file():
        print(f"notebook not found: {notebook}", file=sys.stderr)
        return 1
    limits = _limits(args)
    prepared = _prepare(args)
    # A student's own file may be a symbolic link; batches refuse those, a self-check need not.
    item = batch.read_item(batch.Item(notebook.stem, notebook.resolve()), limits.max_notebook_mb * 2**20)
    feedback_path = Path(args.feedback) if args.feedback else Path("build") / "feedback" / f"{args.assignment}.html"
    job = batch.make_job(item, prepared, limits, {"feedback": str(feedback_path)})
    (result,) = batch.run_jobs([job], limits, workers=1)
    shown = feedback_path if feedback_path.is_file() and result["status"] not in ("rejected", "failed") else None
    print("\n".join(feedback.report_lines(result, notebook, shown)))
    return 1 if result["status"] in ("rejected", "failed") else 0


def command_autograde(args):
    from grader import batch

    batch.start_workers()
    limits = _limits(args)
    started = time.monotonic()
    prepared = _prepare(args)
    output = Path(args.output) if args.output else Path("build") / "autograde" / args.assignment

    def show(index, result):
        points = "-" if result["auto_points"] is None else f"{result['auto_points']:g}"
        print(f"{result['student']}: {points} autograded points, {result['status']} ({result.get('seconds', 0):.1f} s)", flush=True)

    items, results = batch.autograde_folder(prepared, args.submissions, output, limits, args.jobs, on_result=show)
    counts = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    print(f"graded {len(results)} submissions in {time.monotonic() - started:.1f} s: {summary}")
    print(f"grades: {output / batch.CSV_NAME}; feedback pages: {output / 'feedback'}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description="Release and grade the course's homework with nbgrader.")
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub):
        sub.add_argument("assignment", help="assignment name, e.g. hw1")
        sub.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                         help="folder holding NAME/NAME.ipynb with the solutions and hidden tests (default: homework/source)")

    def limits(sub):
        sub.add_argument("--cell-timeout", type=float, help=f"seconds one cell may run (default {settings.Limits().cell_timeout:g})")
        sub.add_argument("--timeout", type=float, help=f"seconds one submission may take in all (default {settings.Limits().submission_timeout:g})")
        sub.add_argument("--memory-mb", type=int, help=f"address-space limit of the kernel in MiB (default {settings.Limits().kernel_memory_mb})")

    release = commands.add_parser("release", help="generate the student version with nbgrader")
    common(release)
    release.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help="release folder (default: homework/release)")
    release.add_argument("--check", action="store_true", help="only check that the release matches the source")
    release.add_argument("--force", action="store_true", help="overwrite a released notebook even if it was edited")
    release.set_defaults(run=command_release)

    grade = commands.add_parser("grade", help="grade one notebook (a copy; the file is never changed)")
    common(grade)
    grade.add_argument("--release", type=Path, default=DEFAULT_RELEASE, help=argparse.SUPPRESS)
    grade.add_argument("--notebook", help="notebook to grade (default: homework/release/NAME/NAME.ipynb)")
    grade.add_argument("--feedback", help="where to write the feedback page (default: build/feedback/NAME.html)")
    limits(grade)
    grade.set_defaults(run=command_grade)

    autograde = commands.add_parser("autograde", help="grade a folder of submissions in parallel, write grades.csv")
    common(autograde)
    autograde.add_argument("--submissions", required=True, help="folder with one NOTEBOOK.ipynb or one folder per student")
    autograde.add_argument("--output", help="output folder (default: build/autograde/NAME)")
    autograde.add_argument("--jobs", type=int, help="submissions graded at once (default: the number of cores)")
    limits(autograde)
    autograde.set_defaults(run=command_autograde)
    return parser


def main(argv=None):
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except Exception as error:
        from grader.assignment import AssignmentError

        if isinstance(error, (AssignmentError, FileNotFoundError)):
            print(f"error: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
