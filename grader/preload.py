"""Imported once by the grading forkserver, so that every forked worker starts warm.

Importing nbgrader, nbconvert and IPython and compiling the feedback page's templates take
a few seconds; done here, before the fork, they cost nothing per submission.
"""

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbformat import v4

from grader import feedback, worker  # noqa: F401 (worker is imported for the forked processes)

feedback.exporter().from_notebook_node(v4.new_notebook(cells=[v4.new_markdown_cell("# $x$"), v4.new_code_cell("x = 1")]))
nbformat.validate(v4.new_notebook(cells=[v4.new_code_cell("x = 1")]))
TransformerManager().transform_cell("%time x = 1")
