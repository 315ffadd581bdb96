"""Write the student version of an assignment, refusing to overwrite a copy a student edited."""

from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils

from grader import assignment


class ReleaseError(Exception):
    """The release could not be written without losing a student's work."""


def serialise(notebook):
    """Return the notebook as the repository stores it: nbformat 4.5 JSON, one-space indent."""
    return (nbformat.writes(notebook) + "\n").encode("utf-8")


def edits_in(data):
    """Return the ways a released notebook differs from a generated one (answers written, cells run)."""
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:  # noqa: BLE001 - anything unreadable must not be overwritten silently
        return ["it is not a readable notebook"]
    edits = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and "checksum" in meta and nbgrader_utils.compute_checksum(cell) != meta["checksum"]:
            edits.append(f"answer cell {meta.get('grade_id')} was edited")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            edits.append(f"cell {meta.get('grade_id', '?')} has outputs")
    if not any(cell.metadata.get("nbgrader") for cell in notebook.cells):
        edits.append("it has no nbgrader metadata")
    return edits


def release(prepared, release_root, force=False, check=False):
    """Write (or, with ``check``, compare) the release files; return [(path, state)].

    state is "unchanged", "written" or, with ``check``, "out of date". Raises ReleaseError
    instead of overwriting a notebook that a student has edited, unless ``force``.
    """
    folder = Path(release_root) / prepared.name
    files = {f"{prepared.name}.ipynb": serialise(prepared.release), **prepared.data_files}
    states = []
    for relative, data in files.items():
        path = folder / relative
        old = path.read_bytes() if path.is_file() else None
        if old == data:
            states.append((path, "unchanged"))
            continue
        if check:
            states.append((path, "out of date"))
            continue
        if old is not None and relative.endswith(".ipynb") and not force:
            edits = edits_in(old)
            if edits:
                raise ReleaseError(
                    f"{path} differs from the generated release and looks edited ({'; '.join(edits[:3])}). "
                    "Move your work elsewhere, or run the release again with FORCE=1 (make) or --force to overwrite it."
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        states.append((path, "written"))
    return states


def prepare_and_release(source_root, release_root, name, force=False, check=False):
    """Generate the release with nbgrader from ``source_root`` and write or check it."""
    return release(assignment.prepare(source_root, name), release_root, force=force, check=check)
