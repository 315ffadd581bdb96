"""Read a submitted file without trusting it: bytes in, a list of plain cells or a rejection out.

Nothing here uses nbformat's reader, which expects a well-formed notebook. The parser accepts
what Colab, VS Code and older Jupyter versions write: other nbformat 4 minor versions, no cell
ids, sources as lists of lines, extra metadata, a byte-order mark and nbformat 3 worksheets.
It keeps only what grading needs, which is each cell's type, source, nbgrader metadata and,
for markdown, its attachments. Outputs are dropped unread.
"""

import json
from dataclasses import dataclass, field

CELL_TYPES = ("code", "markdown", "raw")


class Rejected(Exception):
    """The file cannot be graded. The message gives the reason and what the student can do."""


@dataclass
class SubmittedCell:
    """One cell of a submission, reduced to what grading uses."""

    cell_type: str
    source: str
    nbgrader: dict | None = None
    attachments: dict | None = None


@dataclass
class Submission:
    """The cells of a submission and notes on what reading it had to repair."""

    cells: list
    notes: list = field(default_factory=list)


def decode(data):
    """Return the text of ``data`` and a note when it was not plain UTF-8."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding), f"the file starts with a {encoding} byte-order mark"
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return data.decode("latin-1"), f"the file is not valid UTF-8 (byte {error.start}); it was read as Latin-1"


def _text(value):
    """Return a cell source given as a string or a list of strings, or None if it is neither."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return None


def _cell(raw, index, notes):
    if not isinstance(raw, dict):
        notes.append(f"cell {index} is not a JSON object and was dropped")
        return None
    cell_type = raw.get("cell_type")
    metadata = raw.get("metadata")
    nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    nbgrader = nbgrader if isinstance(nbgrader, dict) else None
    if cell_type == "heading":  # nbformat 3
        level = raw.get("level", 1)
        source = _text(raw.get("source", "")) or ""
        return SubmittedCell("markdown", "#" * (level if isinstance(level, int) and 0 < level < 7 else 1) + " " + source, nbgrader)
    if cell_type not in CELL_TYPES:
        notes.append(f"cell {index} has unknown type {str(cell_type)[:40]!r} and was dropped")
        return None
    source = _text(raw.get("source", raw.get("input", "")))
    if source is None:
        notes.append(f"cell {index} has a source that is not text and was emptied")
        source = ""
    attachments = raw.get("attachments") if cell_type == "markdown" else None
    return SubmittedCell(
        cell_type=cell_type,
        source=source,
        nbgrader=nbgrader,
        attachments=attachments if isinstance(attachments, dict) else None,
    )


def read(data, max_bytes):
    """Return the Submission in ``data`` (bytes), or raise Rejected with a message for the student."""
    if len(data) > max_bytes:
        raise Rejected(
            f"the file is larger than {max_bytes // 2**20} MB; clear the outputs "
            "(Kernel > Restart Kernel and Clear Outputs of All Cells), save and submit again"
        )
    if not data.strip():
        raise Rejected("the file is empty; save the notebook in JupyterLab and submit it again")

    notes = []
    text, note = decode(data)
    if note:
        notes.append(note)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise Rejected(
            f"the file is not a valid notebook: its JSON breaks at line {error.lineno}, column {error.colno} "
            f"({error.msg}). It may be cut short or not a notebook; open it in JupyterLab, save it and submit again"
        ) from None
    except RecursionError:
        raise Rejected("the file is not a valid notebook: its JSON is nested too deeply") from None

    if not isinstance(document, dict) or "nbformat" not in document:
        raise Rejected("the file is JSON but not a Jupyter notebook (it has no nbformat field)")
    version = document.get("nbformat")
    if version == 3:
        worksheets = document.get("worksheets") or [{}]
        raw_cells = worksheets[0].get("cells", []) if isinstance(worksheets[0], dict) else []
        notes.append("the notebook uses the old format 3 and was converted")
    elif version == 4:
        raw_cells = document.get("cells")
    else:
        raise Rejected(f"the notebook has format version {str(version)[:20]}, which the grader does not read (expected 4)")
    if not isinstance(raw_cells, list):
        raise Rejected("the notebook has no list of cells")

    cells = [cell for index, raw in enumerate(raw_cells) if (cell := _cell(raw, index, notes)) is not None]
    return Submission(cells, notes)
