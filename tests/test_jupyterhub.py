"""Run homework 1 for a class of two students on a real local JupyterHub, end to end.

The module sets up the hub in deploy/jupyterhub with unix users named with a random prefix
(so it never touches existing users), starts it on 127.0.0.1 with free ports and releases hw1.
The tests then drive it as a class would. The students fetch and submit through their own
servers' nbgrader API (the calls JupyterLab's Assignments panel makes), the instructor grades
with deploy/jupyterhub/grade and in the formgrader, and the students fetch feedback. One
student logs in with headless Chromium. Teardown removes the users, their homes and
processes, and the hub's folder, even when a step fails. The virtual environment stays
cached in /opt/nn-theory-hub.

It needs root (to create users), so it is skipped for other users.
"""

import csv
import html
import importlib.util
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from test_browser import CHROMIUM_FLAGS, INSTALL_HINT, find_chromium

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "jupyterhub"
SCREENSHOTS = ROOT / "build" / "jupyterhub"
ASSIGNMENT = "hw1"
SOURCE = ROOT / "homework" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")

if os.geteuid() != 0:
    pytest.skip("the JupyterHub test creates unix users, so it runs only as root (as in CI)", allow_module_level=True)

pytestmark = pytest.mark.browser


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_hubclient():
    """Import deploy/jupyterhub/hubclient.py by path (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("hubclient", DEPLOY / "hubclient.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hubclient = load_hubclient()


class ClassHub(hubclient.HubClient):
    """The test's hub: one instructor and two students, one answering everything right, one only question 1."""

    def __init__(self, root, instructor, correct, wrong):
        super().__init__(root)
        self.instructor = instructor
        self.correct = correct
        self.wrong = wrong

    def run_script(self, name, *arguments, timeout=300):
        """Run deploy/jupyterhub/NAME; fail the test with its output if it fails, else return the output."""
        result = self.script(name, *arguments, timeout=timeout)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"deploy/jupyterhub/{name} failed (exit status {result.returncode}):\n{output[-4000:]}"
        return output

    def home(self, name):
        return Path(pwd.getpwnam(name).pw_dir)

    def run_as(self, name, code):
        """Run Python ``code`` as user ``name`` with the system Python; return its JSON output."""
        entry = pwd.getpwnam(name)
        result = subprocess.run(["/usr/bin/python3", "-c", code], user=entry.pw_uid, group=entry.pw_gid,
                                extra_groups=[], env={"HOME": entry.pw_dir, "PATH": "/usr/bin:/bin"},
                                cwd=entry.pw_dir, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"code run as {name} failed:\n{result.stderr}"
        return json.loads(result.stdout)


def remove_users(names):
    """Remove users that teardown left behind: end their processes by id, then delete them and their homes."""
    for name in names:
        if hubclient.user_exists(name):
            for pid in hubclient.processes_of(pwd.getpwnam(name).pw_uid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(Path("/home", name), ignore_errors=True)


@pytest.fixture(scope="module")
def hub():
    """Set up and start a hub for one instructor and two students, release hw1; tear it all down after."""
    prefix = "nnt" + secrets.token_hex(3)
    instructor, correct, wrong = f"{prefix}-prof", f"{prefix}-ada", f"{prefix}-alan"
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-hub-", dir="/tmp"))
    roster = root.with_name(root.name + "-roster.txt")
    roster.write_text(f"# students of the test class\n{correct}\n{wrong}\n")
    hub = ClassHub(root, instructor, correct, wrong)
    started = time.monotonic()
    try:
        hub.run_script("setup", "--roster", roster, "--instructor", instructor, timeout=900)
        hub.run_script("start", "--port", free_port(), "--hub-port", free_port(), "--proxy-api-port", free_port())
        hub.load()
        hub.run_script("release", ASSIGNMENT)
        yield hub
    finally:
        users = (instructor, correct, wrong, f"{instructor}-grader")
        teardown = hub.script("teardown")
        left = [name for name in users if hubclient.user_exists(name) or Path("/home", name).exists()]
        root_left = root.exists()
        remove_users(left)
        roster.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        hub.timings["total"] = round(time.monotonic() - started, 1)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / "timings.json").write_text(json.dumps(hub.timings, indent=2) + "\n")
    assert teardown.returncode == 0, f"deploy/jupyterhub/teardown failed:\n{teardown.stdout}{teardown.stderr}"
    assert left == [], f"teardown left the users or homes of {left} (removed by the test instead)"
    assert not root_left, f"teardown left {root}"


def source_cells():
    """Return {grade_id: cell} of the source notebook."""
    notebook = nbformat.read(SOURCE, as_version=4)
    return {cell.metadata["nbgrader"]["grade_id"]: cell for cell in notebook.cells}


def automatic_points(questions=None):
    """Return the points of the source's automatically graded test cells, of ``questions`` if given."""
    total = 0.0
    for grade_id, cell in source_cells().items():
        meta = cell.metadata["nbgrader"]
        if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code":
            if questions is None or hubclient.question_number(grade_id) in questions:
                total += float(meta.get("points", 0))
    return total


def hidden_lines():
    """Return the lines of the source's hidden tests (over 20 characters) that occur nowhere else in it."""
    hidden, visible = set(), []
    for cell in source_cells().values():
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped == HIDDEN_MARKERS[0]:
                inside = True
            elif stripped == HIDDEN_MARKERS[1]:
                inside = False
            elif inside:
                hidden.add(stripped)
            else:
                visible.append(stripped)
    visible_text = "\n".join(visible)
    return sorted(line for line in hidden if len(line) > 20 and line not in visible_text)


def page_text(path):
    """Return the visible text of an HTML file, without tags and with entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", Path(path).read_text()))


def forge_submission(hub, assignment):
    """As the wrong student, plant a submission in the correct student's name dated in the future; return its folder name."""
    inbound = Path(hub.instance["exchange"]) / hub.instance["course_id"] / "inbound"
    name = f"{hub.correct}+{assignment}+2099-01-01 00:00:00.000000 UTC+forged"
    notebook = hub.home(hub.wrong) / assignment / f"{assignment}.ipynb"
    code = (
        "import json, os, shutil\n"
        f"folder = os.path.join({str(inbound)!r}, {name!r})\n"
        "os.mkdir(folder)\n"
        f"shutil.copyfile({str(notebook)!r}, os.path.join(folder, {assignment + '.ipynb'!r}))\n"
        "open(os.path.join(folder, 'timestamp.txt'), 'w').write('2099-01-01 00:00:00.000000 UTC')\n"
        "print(json.dumps('planted'))\n"
    )
    assert hub.run_as(hub.wrong, code) == "planted"
    return name


def check_formgrader_and_export(hub, expected):
    """Grade the correct student's written answers in the instructor's formgrader, then export the gradebook."""
    hub.start_servers([hub.instructor])
    formgrader = f"/user/{hub.instructor}/formgrader/api"
    status, submissions = hub.api("GET", f"{formgrader}/submitted_notebooks/{ASSIGNMENT}/{ASSIGNMENT}")
    assert status == 200, f"the formgrader's submission list failed: HTTP {status} {submissions}"
    by_student = {item["student"]: item for item in submissions}
    assert set(by_student) == set(expected), f"the formgrader lists {sorted(by_student)}"
    for student, points in expected.items():
        assert by_student[student]["code_score"] == pytest.approx(points), f"formgrader row of {student}: {by_student[student]}"
    grades = {}
    for student in expected:
        status, grades[student] = hub.api("GET", f"{formgrader}/grades?submission_id={by_student[student]['id']}")
        assert status == 200, f"the formgrader's grade list failed: HTTP {status} {grades[student]}"
    written = {student: [grade for grade in grades[student] if grade["needs_manual_grade"]] for student in expected}
    all_written = {grade["name"] for grade in grades[hub.correct] if grade["auto_score"] is None}
    assert all_written and {grade["name"] for grade in written[hub.correct]} == all_written
    # The wrong student answered only question 1 in writing: the other written answers scored 0 automatically.
    assert {grade["name"] for grade in written[hub.wrong]} == {name for name in all_written if name.startswith("q1_")}

    for grade in written[hub.correct]:
        status, reply = hub.api("PUT", f"{formgrader}/grade/{grade['id']}", body={"manual_score": grade["max_score"]})
        assert status == 200, f"giving a manual grade failed: HTTP {status} {reply}"
    written_points = sum(grade["max_score"] for grade in written[hub.correct])

    hub.run_script("export")
    with open(Path(hub.instance["course_dir"]) / "grades" / "gradebook.csv") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle) if row["assignment"] == ASSIGNMENT}
    assert scores[hub.correct] == pytest.approx(expected[hub.correct] + written_points)
    assert scores[hub.wrong] == pytest.approx(expected[hub.wrong])


def test_class_fetch_submit_grade_feedback(hub):
    students = [hub.correct, hub.wrong]
    ready = hub.start_servers(students)
    hub.timings["student servers"] = round(max(ready.values()), 1)

    for student in students:
        listing = hub.assignment_action(student, "fetch", ASSIGNMENT)
        fetched = [item for item in listing if item["assignment_id"] == ASSIGNMENT and item["status"] == "fetched"]
        assert fetched, f"{student} has no fetched {ASSIGNMENT} after fetch: {listing}"

    for student, correct_questions in ((hub.correct, set(range(1, 100))), (hub.wrong, {1})):
        listing = hub.answer_and_submit(student, ASSIGNMENT, SOURCE, correct_questions)
        assert any(item["status"] == "submitted" for item in listing), f"{student}'s submission is not listed: {listing}"

    forged = forge_submission(hub, ASSIGNMENT)

    output = hub.run_script("grade", ASSIGNMENT)
    assert f"Quarantined the submission {forged!r}" in output, f"the forged submission was not caught:\n{output[-3000:]}"
    grades_file = Path(hub.instance["course_dir"]) / "grades" / ASSIGNMENT / "grades.csv"
    assert grades_file.exists(), f"grading wrote no {grades_file}:\n{output[-3000:]}"
    with open(grades_file) as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(students), f"grades for {sorted(rows)}, expected {students}"
    expected = {hub.correct: automatic_points(), hub.wrong: automatic_points({1})}
    assert expected[hub.correct] > expected[hub.wrong] > 0
    for student, points in expected.items():
        assert float(rows[student]["total"]) == pytest.approx(points), f"{student}: {rows[student]}"
        assert float(rows[student]["autograded_max"]) == pytest.approx(expected[hub.correct])

    check_formgrader_and_export(hub, expected)

    hidden = hidden_lines()
    assert hidden, "the source notebook has no hidden tests to look for"
    for student in students:
        hub.assignment_action(student, "fetch_feedback", ASSIGNMENT)
        pages = sorted((hub.home(student) / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html"))
        assert len(pages) == 1, f"{student} got {len(pages)} feedback pages"
        text = page_text(pages[0])
        leaked = [line for line in hidden if line in text]
        assert leaked == [], f"{student}'s feedback shows hidden tests: {leaked[:3]}"
        assert HIDDEN_MARKERS[0] not in text


def test_students_isolated_from_others(hub):
    other = hub.home(hub.correct)
    course = Path(hub.instance["course_dir"])
    exchange = Path(hub.instance["exchange"]) / hub.instance["course_id"]
    targets = {
        "list the instructor's course folder": f"os.listdir({str(course)!r})",
        "read the instructor's source notebook": f"open({str(course / 'source' / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read()",
        "list another student's home": f"os.listdir({str(other)!r})",
        "read another student's notebook": f"open({str(other / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}).read()",
        "list the submissions in the exchange": f"os.listdir({str(exchange / 'inbound')!r})",
        "rename the course's exchange folder": f"os.rename({str(exchange)!r}, {str(exchange) + '-moved'!r})",
        "plant a file in the released assignment": f"open({str(exchange / 'outbound' / ASSIGNMENT / 'planted.py')!r}, 'w')",
        "read the hub's passwords": f"open({str(hub.root / 'state' / 'passwords.csv')!r}).read()",
    }
    code = (
        "import json, os\nresults = {}\n"
        + "".join(
            f"try:\n    {statement}\n    results[{label!r}] = 'allowed'\n"
            f"except PermissionError:\n    results[{label!r}] = 'denied'\n"
            for label, statement in targets.items()
        )
        + "print(json.dumps(results))\n"
    )
    results = hub.run_as(hub.wrong, code)
    for label in targets:
        assert results[label] == "denied", f"a student could {label}"

    status, token = hub.api("POST", f"/hub/api/users/{hub.wrong}/tokens", body={"note": "isolation test", "expires_in": 600})
    assert status == 201, f"could not create a token for {hub.wrong}: {status} {token}"
    student_token = token["token"]
    status, _ = hub.api("GET", f"/user/{hub.wrong}/api/status", token=student_token)
    assert status == 200, "the student's token does not open the student's own server"
    status, _ = hub.api("GET", f"/user/{hub.correct}/api/contents", token=student_token)
    assert status in (403, 404), f"a student's token opened another student's files (HTTP {status})"
    status, _ = hub.api("GET", f"/user/{hub.wrong}/formgrader", token=student_token)
    assert status == 404, f"a student's server serves the formgrader (HTTP {status})"


def test_student_sees_assignment_in_lab(hub):
    executable = find_chromium()
    if executable is None:
        pytest.fail(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    student = hub.correct
    outside = []

    def route(request_route):
        url = request_route.request.url
        host = urllib.parse.urlsplit(url).hostname
        if host == "127.0.0.1" or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    start = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.route("**/*", route)

            page.goto(f"{hub.base}/hub/login")
            page.fill("#username_input", student)
            page.fill("#password_input", hub.passwords[hub.wrong])
            page.click("#login_submit")
            page.wait_for_selector("text=Invalid username or password", timeout=30_000)

            page.fill("#username_input", student)
            page.fill("#password_input", hub.passwords[student])
            page.click("#login_submit")
            page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)
            page.click('.lm-MenuBar-itemLabel:text-is("Nbgrader")')
            items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            assert "Formgrader" not in items, f"a student's Nbgrader menu offers the formgrader: {items}"
            page.click('.lm-Menu-itemLabel:text-is("Assignment List")')
            panel = page.locator(".lm-DockPanel-widget:visible", has_text="Released assignments")
            panel.wait_for(timeout=30_000)
            panel.locator(f"text={ASSIGNMENT}").first.wait_for(timeout=30_000)
            page.wait_for_selector(".jp-DirListing-content", timeout=30_000)
            page.screenshot(path=SCREENSHOTS / "assignments-panel.png")
            assert hub.instance["course_id"] in panel.inner_text()
        finally:
            browser.close()
    hub.timings["browser"] = round(time.monotonic() - start, 1)
    assert outside == [], f"the lab tried to reach hosts outside this machine: {outside[:5]}"
