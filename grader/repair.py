"""Rebuild a submission on the source's cell structure, keeping only the student's own work.

The graded notebook is the template (the source with solutions cleared and hidden tests
kept), in the source's order, with:

- each answer cell's content taken from the submission cell with the same grade_id (matched
  by content, or by position between matched cells, when a tool dropped the metadata);
- every read-only cell and test cell taken from the template, so edits, deletions and type
  changes of those cells are undone;
- every other submission cell (the student's own cells, and extra copies of answer or
  read-only cells) kept without nbgrader metadata right after the matched cell that
  preceded it in the submission, so it runs where the student put it.

Outcomes, each reported as a note: a duplicated answer cell grades its last copy and runs
the earlier copies before it (so a split cell runs whole); a missing code answer becomes an
empty cell (functions defined in the student's other cells still count); a missing written
answer becomes a placeholder that awaits manual grading instead of scoring 0; an answer cell
of the wrong type gets its source's type back.
"""

import ast
import copy
import re

import nbformat
from nbformat import v4

MISSING_CODE = "# The answer cell was missing from the submission; the grader inserted this empty cell.\n"
MISSING_TEXT = "*The written-answer cell was missing from the submission. Look for the answer elsewhere in the notebook.*"
LIB_IMPORT = re.compile(r"^\s*(from\s+lib(\.\w+)*\s+import\b|import\s+lib\b)|(import_module|__import__)\(\s*['\"]lib\b", re.M)


def _key(source):
    """Return ``source`` with trailing spaces and surrounding blank lines removed, for comparisons."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _content_index(release):
    """Return {normalised source: release cell index} for sources that occur exactly once."""
    index = {}
    for position, cell in enumerate(release.cells):
        key = _key(cell.source)
        if key:
            index[key] = None if key in index else position
    return {key: position for key, position in index.items() if position is not None}


def _grading_fields_changed(submitted, released):
    """Return True when the submitted cell carries nbgrader metadata whose grading fields differ from the release's.

    A cell whose metadata an editor dropped is not counted: it was matched by content instead.
    """
    fields = ("grade", "solution", "locked", "points", "task")
    ours = submitted.nbgrader
    theirs = released.metadata.get("nbgrader", {})
    if not isinstance(ours, dict):
        return False
    return any(ours.get(field) != theirs.get(field) for field in fields)


def imports_lib(source):
    """Return True if ``source`` imports the course's ``lib`` package (statically visible imports)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return bool(LIB_IMPORT.search(source))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "lib" for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "lib":
            return True
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            value = node.args[0].value
            if name in ("import_module", "__import__") and isinstance(value, str) and value.split(".")[0] == "lib":
                return True
            # IPython magics (%time import lib, %%capture) carry their code as string arguments.
            code = [arg.value for arg in node.args[1:] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            if name in ("run_line_magic", "run_cell_magic") and any(imports_lib(text) for text in code):
                return True
    return False


class Rebuild:
    """The rebuilt notebook, notes on what was repaired, and where the student imported lib."""

    def __init__(self, submission, prepared):
        self.template = prepared.template
        self.release = prepared.release
        self.roles = prepared.cell_roles()
        self.ids = [cell.metadata.nbgrader["grade_id"] for cell in self.template.cells]
        self.cells = submission.cells
        self.notes = [("repair", note) for note in submission.notes]
        self.lib_imports = []
        self.restored = {"was missing and was restored from the source": [], "was edited; the original was restored": []}
        self.matched = self._match()
        self.notebook = self._assemble()

    def _note(self, kind, text):
        self.notes.append((kind, text))

    def _match(self):
        """Return, per submission cell, the template index it stands for, or None for a free cell."""
        position_of = {grade_id: index for index, grade_id in enumerate(self.ids)}
        by_content = _content_index(self.release)
        matched = []
        for cell in self.cells:
            grade_id = (cell.nbgrader or {}).get("grade_id")
            if isinstance(grade_id, str) and grade_id in position_of:
                matched.append(position_of[grade_id])
                continue
            if isinstance(grade_id, str) and grade_id:
                self._note("repair", f"a cell with the unknown grade_id {grade_id[:60]!r} was kept as an ordinary cell")
            matched.append(by_content.get(_key(cell.source)))
        if any(index is not None for index in matched) and not any(cell.nbgrader for cell in self.cells):
            self._note("repair", "the notebook has no nbgrader metadata (as after some editors); cells were matched by content")

        self._resolve_duplicates(matched)
        self._match_by_position(matched)
        order = [index for index in matched if index is not None]
        if order != sorted(order):
            self._note("repair", "cells were moved; the source's order was restored (your own cells stay after the cell they followed)")
        return matched

    def _resolve_duplicates(self, matched):
        for index, grade_id in enumerate(self.ids):
            positions = [j for j, k in enumerate(matched) if k == index]
            if len(positions) < 2:
                continue
            if self.roles[grade_id] in ("answer", "manual"):
                keep, extra = positions[-1], positions[:-1]
                self._note("repair", f"answer cell {grade_id} appears {len(positions)} times: the last copy is graded "
                                     "and the others run as ordinary cells before it")
            else:
                keep, extra = positions[0], positions[1:]
                self._note("repair", f"read-only cell {grade_id} appears {len(positions)} times: the copies run as ordinary cells")
            for j in extra:
                matched[j] = None
            assert matched[keep] == index

    def _match_by_position(self, matched):
        """Match unmatched answer cells to the unmatched cells between the same two matched cells.

        Within such a gap, answer cells and the student's cells are paired in order when they
        are equally many and their types agree. Otherwise an answer cell is paired only when
        it is the gap's single answer cell and the gap contains a single cell of its type.
        """
        where = {k: j for j, k in enumerate(matched) if k is not None}
        anchors = sorted(where)
        for before, after in zip([-1] + anchors, anchors + [len(self.ids)]):
            start = where[before] if before >= 0 else -1
            end = where[after] if after < len(self.ids) else len(self.cells)
            if start >= end:
                continue
            answers = [k for k in range(before + 1, after) if self.roles[self.ids[k]] in ("answer", "manual")]
            candidates = [j for j in range(start + 1, end) if matched[j] is None]
            if not answers or not candidates:
                continue
            types = [self.template.cells[k].cell_type for k in answers]
            if len(answers) == len(candidates) and types == [self.cells[j].cell_type for j in candidates]:
                pairs = list(zip(answers, candidates))
            elif len(answers) == 1 and [self.cells[j].cell_type for j in candidates].count(types[0]) == 1:
                pairs = [(answers[0], next(j for j in candidates if self.cells[j].cell_type == types[0]))]
            else:
                continue
            for index, j in pairs:
                matched[j] = index
                self._note("repair", f"answer cell {self.ids[index]} had lost its metadata and was found by its position")

    def _answer_cell(self, index, submitted):
        template_cell = self.template.cells[index]
        grade_id = self.ids[index]
        if submitted is None:
            if self.roles[grade_id] == "manual":
                source = MISSING_TEXT
                self._note("review", f"written answer {grade_id} was missing; it awaits manual grading")
            else:
                source = MISSING_CODE if template_cell.cell_type == "code" else ""
                self._note("repair", f"answer cell {grade_id} was missing; functions defined in other cells still count")
        else:
            source = submitted.source
            if submitted.cell_type != template_cell.cell_type:
                self._note("repair", f"answer cell {grade_id} was changed to {submitted.cell_type}; it was changed back to {template_cell.cell_type}")
        cell = self._new_cell(template_cell.cell_type, source, submitted)
        cell.metadata = copy.deepcopy(template_cell.metadata)
        cell.id = template_cell.id
        if template_cell.cell_type == "code" and submitted is not None and imports_lib(source):
            self.lib_imports.append(grade_id)
        return cell

    def _fixed_cell(self, index, submitted):
        grade_id = self.ids[index]
        if submitted is None:
            self.restored["was missing and was restored from the source"].append(grade_id)
        else:
            originals = {_key(self.release.cells[index].source), _key(self.template.cells[index].source)}
            if (submitted.cell_type != self.template.cells[index].cell_type or _key(submitted.source) not in originals
                    or _grading_fields_changed(submitted, self.release.cells[index])):
                self.restored["was edited; the original was restored"].append(grade_id)
        return copy.deepcopy(self.template.cells[index])

    def _note_restored(self):
        """Add one note per restored cell, or one per kind of repair when many cells needed it."""
        for what, grade_ids in self.restored.items():
            if len(grade_ids) <= 3:
                for grade_id in grade_ids:
                    kind = "test" if self.roles[grade_id] in ("test", "hidden") else "read-only"
                    self._note("repair", f"{kind} cell {grade_id} {what}")
            elif grade_ids:
                shown = ", ".join(grade_ids[:6]) + (f" and {len(grade_ids) - 6} more" if len(grade_ids) > 6 else "")
                self._note("repair", f"{len(grade_ids)} read-only and test cells: each {what} ({shown})")

    @staticmethod
    def _new_cell(cell_type, source, submitted):
        if cell_type == "code":
            return v4.new_code_cell(source)
        cell = v4.new_markdown_cell(source) if cell_type == "markdown" else v4.new_raw_cell(source)
        if cell_type == "markdown" and submitted is not None and submitted.attachments:
            cell.attachments = copy.deepcopy(submitted.attachments)
        return cell

    def _assemble(self):
        first = {}
        for j, index in enumerate(self.matched):
            if index is not None:
                first[index] = j
        free_after = {}  # template index (or -1 for the start) -> free submission cells
        anchor = -1
        for j, index in enumerate(self.matched):
            if index is None:
                free_after.setdefault(anchor, []).append(j)
            else:
                anchor = index

        cells = []
        counter = 0

        def add_free(anchor_index):
            nonlocal counter
            for j in free_after.get(anchor_index, []):
                submitted = self.cells[j]
                cell = self._new_cell(submitted.cell_type, submitted.source, submitted)
                counter += 1
                cell.id = f"extra-{counter}"
                cells.append(cell)
                if submitted.cell_type == "code" and imports_lib(submitted.source):
                    label = self.ids[anchor_index] if anchor_index >= 0 else "the start"
                    self.lib_imports.append(f"a cell of your own after {label}")

        add_free(-1)
        for index, grade_id in enumerate(self.ids):
            submitted = self.cells[first[index]] if index in first else None
            if self.roles[grade_id] in ("answer", "manual"):
                cells.append(self._answer_cell(index, submitted))
            else:
                cells.append(self._fixed_cell(index, submitted))
            add_free(index)

        self._note_restored()
        notebook = v4.new_notebook(cells=cells, metadata=copy.deepcopy(self.template.metadata))
        nbformat.validate(notebook)
        return notebook
