"""Show a result to the student: a console table and an HTML feedback page without hidden tests.

The page is the graded notebook with every hidden test cell reduced to its visible comment
and its score. Every other output is scrubbed of lines of hidden test code, so neither the
test source nor a traceback quoting it reaches the student.
"""

import copy
import html
from pathlib import Path

from nbformat import v4

from grader import scoring

REMOVED = "[hidden test code removed]"
MIN_HIDDEN_LINE = 12


def hidden_lines(prepared):
    """Return the lines of hidden test code (long enough to be specific), longest first."""
    visible = "\n".join(cell.source for cell in prepared.release.cells)
    lines = set()
    for source in prepared.hidden_sources():
        for line in source.splitlines():
            stripped = line.strip()
            if len(stripped) >= MIN_HIDDEN_LINE and stripped not in visible and "HIDDEN TESTS" not in stripped:
                lines.add(stripped)
    return sorted(lines, key=len, reverse=True)


def scrub(text, lines):
    """Replace every hidden line occurring in ``text``."""
    for line in lines:
        if line in text:
            text = text.replace(line, REMOVED)
    return text


def _points(value):
    return f"{value:g} point" + ("" if value == 1 else "s")


def _format_points(value):
    return "-" if value is None else f"{value:g}"


def _scrub_output(output, lines):
    if output.output_type == "stream":
        output.text = scrub(output.text, lines)
    elif output.output_type == "error":
        output.evalue = scrub(output.evalue, lines)
        output.traceback = [scrub(line, lines) for line in output.traceback]
    else:
        for mime, value in list(output.get("data", {}).items()):
            if isinstance(value, str) and mime.startswith("text/"):
                output.data[mime] = scrub(value, lines)


def redacted_notebook(graded, prepared, result):
    """Return a copy of the graded notebook that is safe to show the student."""
    notebook = copy.deepcopy(graded)
    roles = prepared.cell_roles()
    release_source = {cell.metadata.nbgrader["grade_id"]: cell.source for cell in prepared.release.cells}
    lines = hidden_lines(prepared)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = scrub(cell.source, lines) if roles.get(grade_id) != "hidden" else release_source[grade_id]
        if cell.cell_type != "code":
            continue
        if roles.get(grade_id) == "hidden":
            score = result["cells"].get(grade_id, {})
            maximum = score.get("max_points")
            text = f"{_format_points(score.get('points'))} of {_points(maximum) if maximum is not None else '-'}"
            if score.get("message"):
                text += ": " + scrub(score["message"], lines)
            cell.outputs = [v4.new_output("stream", name="stdout", text=text + "\n(The hidden tests' code and output are not shown.)\n")]
            continue
        for output in cell.outputs:
            _scrub_output(output, lines)
    notebook.cells.insert(0, v4.new_markdown_cell(summary_markdown(result, lines)))
    return notebook


def _cell_text(text):
    return html.escape(text).replace("|", "&#124;")


def summary_markdown(result, lines=()):
    """Return the markdown summary placed at the top of the feedback page."""
    rows = [
        f"# Feedback on {result['assignment']}",
        "",
        f"Autograded points: **{_format_points(result['auto_points'])} of {_format_points(result['auto_max'])}**. "
        f"Written answers worth {_format_points(result['manual_pending'])} points await manual grading.",
        "",
        "| question | autograded | written | messages |",
        "|---|---|---|---|",
    ]
    for question in result["questions"]:
        messages = [scrub(m, lines) for m in question["messages"] + [f"visible test {v}" for v in question["visible"]]]
        title = f"{question['number']}. {question['title']}" if question["number"] is not None else "other"
        written = f"{_format_points(question['manual_max'])} to grade by hand" if question["manual_max"] else ""
        rows.append(
            f"| {_cell_text(title)} | {_format_points(question['auto_points'])} / {_format_points(question['auto_max'])} "
            f"| {written} | {'<br>'.join(_cell_text(m) for m in messages)} |"
        )
    if result["notes"] or result["lib_imports"]:
        rows += ["", "**Notes**", ""]
        rows += [f"- {_cell_text(scrub(note['text'], lines))}" for note in result["notes"]]
        if result["lib_imports"]:
            rows.append("- Cells importing the course's `lib` (flagged for your instructor): " + _cell_text(", ".join(result["lib_imports"])))
    return "\n".join(rows)


_exporters = []


def exporter():
    """Return the HTML exporter of feedback pages, created once per process."""
    if not _exporters:
        from nbconvert import HTMLExporter

        _exporters.append(HTMLExporter(template_name="lab"))
    return _exporters[0]


def write_html(graded, prepared, result, path):
    """Write the feedback page for ``result`` to ``path``."""
    notebook = redacted_notebook(graded, prepared, result)
    body, _ = exporter().from_notebook_node(notebook, resources={"metadata": {"name": f"Feedback on {prepared.name}"}})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(body, encoding="utf-8")


def report_lines(result, notebook_path=None, feedback_path=None):
    """Return the console report of one graded submission as a list of lines."""
    lines = []
    header = f"{result['assignment']}: {notebook_path}" if notebook_path else f"{result['assignment']}: {result['student']}"
    lines.append(header)
    if result["status"] in ("rejected", "failed"):
        lines.append(f"  not graded ({result['status']}): {result['notes'][0]['text']}")
        return lines

    width = max([len(q["title"]) for q in result["questions"]] + [10]) + 4
    lines.append(f"  {'question':<{width}} {'autograded':>11}   written")
    for question in result["questions"]:
        title = f"{question['number']}. {question['title']}" if question["number"] is not None else "other"
        written = f"{_points(question['manual_max'])} to grade by hand" if question["manual_max"] else ""
        auto = f"{question['auto_points']:g} / {question['auto_max']:g}"
        lines.append(f"  {title:<{width}} {auto:>11}   {written}")
        messages = question["messages"] + [f"visible test {message}" for message in question["visible"]]
        unanswered = [m for m in messages if "NotImplementedError" in m]
        for message in messages:
            if message not in unanswered:
                lines.append(f"      {scoring.clean_text(message, 160)}")
        if unanswered:
            lines.append(f"      {len(unanswered)} test(s) stopped at NotImplementedError: an answer is still the stub")
    total = result["auto_max"] + result["manual_max"]
    lines.append(
        f"  total: {result['auto_points']:g} of {result['auto_max']:g} autograded points; "
        f"written answers worth {_points(result['manual_pending'])} await manual grading (maximum {total:g})"
    )
    for note in result["notes"]:
        lines.append(f"  note: {scoring.clean_text(note['text'], 200)}")
    if result["lib_imports"]:
        lines.append("  note: cells importing the course's lib, flagged for your instructor: " + ", ".join(result["lib_imports"]))
    if feedback_path:
        lines.append(f"  feedback page: {feedback_path}")
    return lines
