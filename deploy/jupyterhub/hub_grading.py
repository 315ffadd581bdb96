"""The instructor's side of the exchange: course folder, release, and grading through the course's grader.

nbgrader commands run as the instructor's unix user inside the course folder. Student code
never does: the course's grader (``python -m grader autograde``, the same hardened grading
as ``make autograde``) runs as a separate grading user that owns nothing but a scratch copy
of the assignment's source and the collected submissions. Run as the instructor, a submission
could rewrite the released assignments in the exchange, or read every solution.
"""

import os
import pwd
import shutil
import time
from pathlib import Path

import hub_users
from hub_build import HERE

# Parts of the repository's homework folder that are per-class state, never copied to the hub.
COURSE_STATE = ("gradebook.db", "submitted", "autograded", "feedback", "grades", ".ipynb_checkpoints", "__pycache__")


def chown_tree(path, user):
    """Give ``path`` and everything below it (symbolic links themselves, not their targets) to ``user``."""
    entry = pwd.getpwnam(user)
    os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
    for folder, subfolders, files in os.walk(path):
        for name in subfolders + files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def copy_regular_files(source, destination):
    """Copy the regular files below ``source`` to ``destination``, skipping symbolic links and special files."""
    for folder, subfolders, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        subfolders[:] = [name for name in subfolders if not os.path.islink(os.path.join(folder, name))]
        (destination / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                shutil.copyfile(path, destination / relative / name)


def copy_course(instance):
    """Copy the repository's homework folder into the instructor's home as the course folder."""
    source = Path(instance["repository"]) / "homework"
    course = Path(instance["course_dir"])
    shutil.copytree(source, course, ignore=shutil.ignore_patterns(*COURSE_STATE))
    chown_tree(course, instance["instructor"])


def as_user(instance, user, command, cwd, stdin=None):
    """Run ``command`` as ``user`` in ``cwd`` (``stdin`` as its input), echoing it; exit with a message if it fails."""
    print("$ " + " ".join(str(part) for part in command), flush=True)
    result = hub_users.run_as(user, instance["venv"], command, cwd=cwd, input=stdin, text=stdin is not None)
    if result.returncode != 0:
        raise SystemExit(f"`{' '.join(str(part) for part in command[:3])} ...` failed with exit status "
                         f"{result.returncode} (run as {user}); see its output above.")


def as_instructor(instance, *command):
    as_user(instance, instance["instructor"], command, cwd=instance["course_dir"])


def tool(instance, name):
    return Path(instance["venv"]) / "bin" / name


def release(instance, assignment):
    """Generate the student version of ``assignment``, check it against the course's grader, copy it to the exchange.

    nbgrader's generate_assignment also records the assignment in the instructor's gradebook,
    which the formgrader needs. The grader's check confirms that the release is the one its
    hidden tests are graded against.
    """
    as_instructor(instance, tool(instance, "nbgrader"), "generate_assignment", assignment, "--force")
    as_instructor(instance, tool(instance, "python"), "-m", "grader", "release", assignment,
                  "--source", "source", "--release", "release", "--check")
    as_instructor(instance, tool(instance, "nbgrader"), "release_assignment", assignment, "--force")


def submission_owner_problems(instance, entry):
    """Return why an inbound submission folder is not trustworthy, or None.

    nbgrader's inbound folder is writable by every user, and collect believes the student name
    at the start of the folder's name (with ``CollectApp.check_owner`` it only logs a warning).
    So a student could submit in another student's name, with a timestamp far in the future.
    """
    student = entry.name.rsplit("+", 3)[0]
    if student not in instance["students"]:
        return f"{student!r} is not a student of this hub"
    uid = pwd.getpwnam(student).pw_uid
    for path in [entry, *entry.rglob("*")]:
        info = path.lstat()
        if info.st_uid != uid:
            try:
                owner = pwd.getpwuid(info.st_uid).pw_name
            except KeyError:
                owner = f"user id {info.st_uid}"
            return f"{path.relative_to(entry.parent)} belongs to {owner}, not to {student}"
        if path.is_symlink():
            return f"{path.relative_to(entry.parent)} is a symbolic link"
    return None


def quarantine_forged_submissions(instance, assignment):
    """Move inbound submissions whose files do not belong to the named student out of the exchange; return their names."""
    inbound = Path(instance["exchange"]) / instance["course_id"] / "inbound"
    quarantine = Path(instance["root"]) / "state" / "quarantine"
    moved = []
    for entry in sorted(inbound.glob(f"*+{assignment}+*")):
        problem = submission_owner_problems(instance, entry)
        if problem is None:
            continue
        quarantine.mkdir(mode=0o700, exist_ok=True)
        shutil.move(str(entry), str(quarantine / entry.name))
        print(f"Quarantined the submission {entry.name!r}: {problem}. It is in {quarantine} (root only).", flush=True)
        moved.append(entry.name)
    return moved


def prepare_grading_folder(instance, assignment):
    """Build a fresh scratch folder for the grading user: the assignment's source and the collected notebooks."""
    course = Path(instance["course_dir"])
    grading_user = instance["grading_user"]
    work = hub_users.home_of(grading_user) / "work"
    shutil.rmtree(work, ignore_errors=True)
    copy_regular_files(course / "source" / assignment, work / "source" / assignment)
    submitted = course / "submitted"
    for student_folder in sorted(submitted.iterdir()) if submitted.is_dir() else []:
        notebook = student_folder / assignment / f"{assignment}.ipynb"
        if student_folder.name in instance["students"] and notebook.is_file() and not notebook.is_symlink():
            target = work / "submitted" / student_folder.name / assignment
            target.mkdir(parents=True)
            shutil.copyfile(notebook, target / notebook.name)
    (work / "submitted").mkdir(parents=True, exist_ok=True)
    chown_tree(work, grading_user)
    work.chmod(0o700)
    return work


def publish_results(instance, assignment, work):
    """Copy the grader's output into the course folder and lay out the feedback as nbgrader's release_feedback expects."""
    course = Path(instance["course_dir"])
    grades = course / "grades" / assignment
    shutil.rmtree(grades, ignore_errors=True)
    copy_regular_files(work / "output", grades)
    chown_tree(course / "grades", instance["instructor"])

    # release_feedback names each page in the exchange after a hash of the submission's secret,
    # so it needs the collected submission's timestamp and secret beside the page.
    released = 0
    for page in sorted((grades / "feedback").glob("*.html")):
        student = page.stem
        submitted = course / "submitted" / student / assignment
        records = [submitted / "timestamp.txt", submitted / "submission_secret.txt"]
        if student not in instance["students"] or not all(record.is_file() for record in records):
            continue
        target = course / "feedback" / student / assignment
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copyfile(page, target / f"{assignment}.html")
        for record in records:
            shutil.copyfile(record, target / record.name)
        released += 1
    if (course / "feedback").exists():
        chown_tree(course / "feedback", instance["instructor"])
    return grades / "grades.csv", released


def grade(instance, assignment, workers=None):
    """Collect the submissions of ``assignment``, autograde them, export the grades and return feedback."""
    steps = {}
    start = time.monotonic()
    quarantine_forged_submissions(instance, assignment)
    as_instructor(instance, tool(instance, "nbgrader"), "collect", assignment, "--update")
    steps["collect"] = time.monotonic() - start

    start = time.monotonic()
    work = prepare_grading_folder(instance, assignment)
    command = [tool(instance, "python"), "-m", "grader", "autograde", assignment, "--source", "source",
               "--submissions", "submitted", "--output", "output"]
    if workers is not None:
        command += ["--jobs", str(workers)]
    try:
        as_user(instance, instance["grading_user"], command, cwd=work)
    finally:
        # Nothing a submission started may outlive the grading run.
        hub_users.end_processes(pwd.getpwnam(instance["grading_user"]).pw_uid)
    steps["autograde"] = time.monotonic() - start

    start = time.monotonic()
    grades_file, released = publish_results(instance, assignment, work)
    # The script goes in through standard input: the instructor may not be able to read the checkout.
    as_user(instance, instance["instructor"],
            [tool(instance, "python"), "-", instance["course_dir"], assignment, *instance["students"]],
            cwd=instance["course_dir"], stdin=(HERE / "gradebook_import.py").read_text())
    if released:
        as_instructor(instance, tool(instance, "nbgrader"), "release_feedback", assignment)
    steps["feedback"] = time.monotonic() - start

    timing = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
    print(f"Grades: {grades_file}")
    print(f"Feedback released to the exchange for {released} students; they fetch it in the Assignments panel.")
    print(f"Time: {timing}.")


def export(instance):
    """Write every grade in the instructor's gradebook (autograded and manual) to COURSE/grades/gradebook.csv."""
    target = Path(instance["course_dir"]) / "grades" / "gradebook.csv"
    as_instructor(instance, tool(instance, "nbgrader"), "export", "--to", str(target))
    print(f"Grades with the manual scores: {target}")
