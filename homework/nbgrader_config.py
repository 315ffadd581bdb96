# nbgrader settings for this folder as an nbgrader course directory, used when nbgrader runs
# here by hand (nbgrader generate_assignment, the formgrader). The course's own commands
# (python -m grader, make release/grade/autograde) apply the same settings themselves.
import os

from grader import settings

c = get_config()  # noqa: F821 (traitlets defines get_config when nbgrader loads this file)
settings.configure(c)
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
