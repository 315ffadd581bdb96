"""Defaults of the homework grader and the nbgrader configuration built from them.

homework/nbgrader_config.py calls ``configure`` so that nbgrader run by hand (for example the
formgrader) uses the same stubs and course id as ``python -m grader``.
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE_ID = "nn-theory"
CODE_STUB = '# YOUR CODE HERE\nraise NotImplementedError("Write your answer here, then run this cell")'
TEXT_STUB = "YOUR ANSWER HERE"

# nbgrader's student id inside each private course folder; the real id only appears in the outputs.
INTERNAL_STUDENT = "student"

# Folder of the repository when the grader runs from a checkout (it is installed editable).
REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Limits:
    """Resource limits for grading one submission."""

    cell_timeout: float = 30.0  # seconds a single cell may run before it is interrupted
    submission_timeout: float = 300.0  # wall-clock seconds for a whole submission, kernel restarts included
    kernel_memory_mb: int = 3072  # address-space limit (RLIMIT_AS) of the grading kernel
    kernel_file_mb: int = 200  # largest file the grading kernel may write (RLIMIT_FSIZE)
    max_notebook_mb: int = 50  # larger submissions are rejected unread
    max_output_chars: int = 20_000  # printed text kept per cell; images and HTML may use 100 times more
    max_kernel_restarts: int = 3  # cells skipped after a kernel death or an unstoppable cell


def configure(c):
    """Set the nbgrader options this course relies on in the traitlets config ``c``."""
    c.CourseDirectory.course_id = COURSE_ID
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    c.Execute.timeout = int(Limits().cell_timeout)
    c.Execute.interrupt_on_timeout = True
    c.LimitOutput.max_lines = 200
    c.LimitOutput.max_traceback = 40
    return c


def tool_environment():
    """Return os.environ with this interpreter's bin folder first on PATH.

    nbgrader runs the ``alembic`` command when it creates a gradebook, and ``make`` calls
    .venv/bin/python without activating the virtual environment.
    """
    environment = dict(os.environ)
    bin_folder = str(Path(sys.executable).parent)
    environment["PATH"] = bin_folder + os.pathsep + environment.get("PATH", os.defpath)
    return environment
