"""Read an assignment's source notebook and let nbgrader generate its release and gradebook.

An assignment ``NAME`` lives in ``SOURCE/NAME/NAME.ipynb`` (with any data files beside it).
Every cell of the source notebook must carry nbgrader metadata with a grade_id, and graded
cells and answer cells belong to a question through a ``q<number>_`` prefix. That lets the
grader match each cell of a submission to its source cell by id, whatever the student did to
the order of the cells.
"""

import hashlib
import logging
import os
import re
import shutil
import sqlite3
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils

from grader import settings

QUESTION_ID = re.compile(r"^q(\d+)_")
HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
IGNORED_FILES = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", ".DS_Store")


class AssignmentError(Exception):
    """The assignment's source is missing or does not follow the rules above."""


@dataclass
class Prepared:
    """Everything the graders need from the source, kept in memory rather than on disk."""

    name: str
    release: nbformat.NotebookNode  # the student version, as nbgrader generated it
    template: nbformat.NotebookNode  # the release with hidden tests put back: what gets executed
    gradebook: bytes  # nbgrader's gradebook database after generate_assignment
    data_files: dict = field(default_factory=dict)  # relative path -> bytes, copied beside the notebook
    questions: dict = field(default_factory=dict)  # question number -> title
    source_sha256: str = ""

    def cell_roles(self):
        """Return {grade_id: role} with role "answer", "manual", "test", "hidden" or "fixed"."""
        roles = {}
        for template_cell, release_cell in zip(self.template.cells, self.release.cells):
            roles[template_cell.metadata.nbgrader["grade_id"]] = cell_role(template_cell, release_cell)
        return roles

    def hidden_sources(self):
        """Return the source of every test cell whose hidden part the release removed."""
        return [
            template_cell.source
            for template_cell, release_cell in zip(self.template.cells, self.release.cells)
            if template_cell.source != release_cell.source and not nbgrader_utils.is_solution(template_cell)
        ]


def cell_role(template_cell, release_cell=None):
    """Classify a source cell: written answer, code answer, hidden or visible test, or fixed."""
    if nbgrader_utils.is_solution(template_cell):
        return "manual" if nbgrader_utils.is_grade(template_cell) else "answer"
    if nbgrader_utils.is_grade(template_cell):
        hidden = release_cell is not None and release_cell.source != template_cell.source
        return "hidden" if hidden else "test"
    return "fixed"


def question_of(grade_id):
    """Return the question number encoded in a grade_id such as ``q3_bound``, or None."""
    match = QUESTION_ID.match(grade_id or "")
    return int(match.group(1)) if match else None


def source_notebook(source_root, name):
    """Return the path of the assignment's source notebook, checking the folder layout."""
    folder = Path(source_root) / name
    path = folder / f"{name}.ipynb"
    if not path.is_file():
        raise AssignmentError(f"source notebook not found: {path} (expected SOURCE/{name}/{name}.ipynb)")
    others = sorted(p.name for p in folder.glob("*.ipynb") if p != path)
    if others:
        raise AssignmentError(f"{folder} must hold one notebook, {name}.ipynb; also found {', '.join(others)}")
    return path


def check_source(nb):
    """Raise AssignmentError listing every rule of the module docstring that ``nb`` breaks."""
    problems = []
    seen = set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        grade_id = (meta or {}).get("grade_id")
        if not grade_id:
            problems.append(f"cell {index} has no nbgrader grade_id (make it read-only, an answer or a test)")
            continue
        if grade_id in seen:
            problems.append(f"grade_id {grade_id!r} is used twice")
        seen.add(grade_id)
        if not (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            problems.append(f"cell {grade_id!r} is neither read-only, an answer nor a test")
        if (meta.get("grade") or meta.get("solution")) and question_of(grade_id) is None:
            problems.append(f"graded or answer cell {grade_id!r} needs a q<number>_ prefix")
        if HIDDEN_BEGIN in cell.source and not meta.get("grade"):
            problems.append(f"cell {grade_id!r} has hidden tests but is not a graded test cell")
    if problems:
        raise AssignmentError("the source notebook breaks the grader's rules:\n  " + "\n  ".join(problems))


def question_titles(nb):
    """Return {number: title} from the first heading of each question's read-only markdown cells."""
    titles = {}
    for cell in nb.cells:
        number = question_of(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if number is None or number in titles or cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("#"):
                titles[number] = re.sub(r"^question\s*\d+\s*[:.]?\s*", "", line.lstrip("#").strip(), flags=re.I)
                break
    return titles


def _cache_folder():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nn-theory-grader"


def empty_gradebook():
    """Return the bytes of an empty nbgrader gradebook, cached per nbgrader version.

    nbgrader runs the ``alembic`` command (a few seconds) whenever it creates a database; the
    empty database holds no course content, so it is created once and copied afterwards.
    """
    import nbgrader
    from nbgrader.api import Gradebook

    cached = _cache_folder() / f"gradebook-empty-nbgrader-{nbgrader.__version__}.db"
    if cached.is_file():
        return cached.read_bytes()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gradebook.db"
        saved_path = os.environ.get("PATH", "")
        os.environ["PATH"] = settings.tool_environment()["PATH"]
        try:
            with Gradebook(f"sqlite:///{path}", settings.COURSE_ID):
                pass
        finally:
            os.environ["PATH"] = saved_path
        data = path.read_bytes()

    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(cached)
    except OSError:
        pass  # a read-only home folder only costs the creation time on the next run
    return data


def nbgrader_config(course_root, name):
    """Return the traitlets Config for nbgrader on a private course folder."""
    from traitlets.config import Config

    c = settings.configure(Config())
    c.CourseDirectory.root = str(course_root)
    c.CourseDirectory.assignment_id = name
    c.CourseDirectory.db_url = f"sqlite:///{Path(course_root) / 'gradebook.db'}"
    return c


def quiet_nbgrader_logs(handler=None):
    """Send nbgrader's log records to ``handler`` (or nowhere) instead of stderr."""
    logger = logging.getLogger("traitlets")
    logger.handlers[:] = [handler] if handler is not None else [logging.NullHandler()]
    logger.propagate = False
    logger.setLevel(logging.INFO if handler is not None else logging.ERROR)
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)


def _template_from_gradebook(release, gradebook_path, name):
    """Put each cell's gradebook source and checksum (hidden tests included) into a release copy."""
    template = nbformat.from_dict(release)
    with sqlite3.connect(gradebook_path) as db:
        rows = db.execute(
            "SELECT source_cell.name, source_cell.source, source_cell.checksum FROM source_cell "
            "JOIN notebook ON source_cell.notebook_id = notebook.id "
            "JOIN assignment ON notebook.assignment_id = assignment.id "
            "WHERE notebook.name = ? AND assignment.name = ?",
            (name, name),
        ).fetchall()
    stored = {grade_id: (source, checksum) for grade_id, source, checksum in rows}
    for cell in template.cells:
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id not in stored:
            raise AssignmentError(f"nbgrader did not store cell {grade_id!r} in the gradebook")
        cell.source, cell.metadata.nbgrader["checksum"] = stored[grade_id]
    return template


def prepare(source_root, name):
    """Run nbgrader's generate_assignment on a private copy of the source; return a Prepared."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    path = source_notebook(source_root, name)
    raw = path.read_bytes()
    source = nbformat.reads(raw.decode("utf-8"), as_version=4)
    check_source(source)

    with tempfile.TemporaryDirectory(prefix="grader-release-") as folder:
        course = Path(folder)
        shutil.copytree(path.parent, course / "source" / name, ignore=IGNORED_FILES)
        (course / "gradebook.db").write_bytes(empty_gradebook())
        config = nbgrader_config(course, name)
        quiet_nbgrader_logs()
        converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
        try:
            converter.start()
        except Exception as error:
            raise AssignmentError(f"nbgrader generate_assignment failed on {path}: {error}") from error

        release_folder = course / "release" / name
        release = nbformat.read(release_folder / f"{name}.ipynb", as_version=4)
        template = _template_from_gradebook(release, course / "gradebook.db", name)
        data_files = {
            file.relative_to(release_folder).as_posix(): file.read_bytes()
            for file in sorted(release_folder.rglob("*"))
            if file.is_file() and file.name != f"{name}.ipynb"
        }
        gradebook = (course / "gradebook.db").read_bytes()

    return Prepared(
        name=name,
        release=release,
        template=template,
        gradebook=gradebook,
        data_files=data_files,
        questions=question_titles(source),
        source_sha256=hashlib.sha256(raw).hexdigest(),
    )
