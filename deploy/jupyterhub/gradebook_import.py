"""Record the course grader's results in the instructor's nbgrader gradebook, for manual grading in the formgrader.

Run by deploy/jupyterhub/grade as the instructor, with the hub's Python (it imports nbgrader):

    python gradebook_import.py COURSE_DIR ASSIGNMENT STUDENT...

For each student with a graded notebook in COURSE_DIR/grades/ASSIGNMENT, it copies that
notebook to nbgrader's autograded folder and stores the grader's scores: the autograded
tests' points, and the written answers as awaiting a manual grade. Manual grades already
given in the formgrader are kept. Executing nothing, it trusts only the grader's results.
"""

import json
import shutil
import sys
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from traitlets.config import Config

from grader import settings


def import_student(gradebook, course, assignment, student):
    """Store one student's graded notebook and scores; return False when there is nothing to import."""
    grades = course / "grades" / assignment
    result_file = grades / "results" / f"{student}.json"
    graded = grades / "graded" / f"{student}.ipynb"
    submitted = course / "submitted" / student / assignment
    if not result_file.is_file() or not graded.is_file():
        return False
    result = json.loads(result_file.read_text())
    if result["status"] in ("rejected", "failed"):
        return False

    target = course / "autograded" / student / assignment
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(graded, target / f"{assignment}.ipynb")
    timestamp = None
    if (submitted / "timestamp.txt").is_file():
        shutil.copyfile(submitted / "timestamp.txt", target / "timestamp.txt")
        timestamp = (submitted / "timestamp.txt").read_text().strip()

    gradebook.update_or_create_student(student)
    if timestamp:
        gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
    else:
        gradebook.update_or_create_submission(assignment, student)
    for grade_id, cell in result["cells"].items():
        grade = gradebook.find_grade(grade_id, assignment, assignment, student)
        grade.auto_score = cell["points"]
        # A written answer with no text scores 0 automatically; any other waits for the instructor.
        grade.needs_manual_grade = cell["points"] is None and grade.manual_score is None
    gradebook.db.commit()
    return True


def main(argv):
    course, assignment, students = Path(argv[0]).resolve(), argv[1], argv[2:]
    config = settings.configure(Config())
    database = f"sqlite:///{course / 'gradebook.db'}"
    imported = []
    with Gradebook(database, config.CourseDirectory.course_id) as gradebook:
        try:
            gradebook.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"{assignment} is not in {course / 'gradebook.db'}; release it with deploy/jupyterhub/release first.")
        for student in students:
            if import_student(gradebook, course, assignment, student):
                imported.append(student)
    print(f"Recorded {len(imported)} graded submissions in the formgrader's gradebook {course / 'gradebook.db'}.")


if __name__ == "__main__":
    main(sys.argv[1:])
