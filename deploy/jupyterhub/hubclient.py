"""Drive a running hub from a script: its REST API, the students' nbgrader actions, memory of users' processes.

Used by tests/test_jupyterhub.py and tools/hub_bench.py, which load this file by path. It needs
root (it reads the hub's state folder) and only the standard library.
"""

import csv
import json
import pwd
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


class HubClient:
    """A hub set up under ``root`` by deploy/jupyterhub/setup."""

    def __init__(self, root):
        self.root = Path(root)
        self.timings = {}

    def load(self):
        """Read the settings, the API token and the passwords that setup and start wrote."""
        self.instance = json.loads((self.root / "instance.json").read_text())
        self.token = (self.root / "state" / "api_token").read_text().strip()
        with open(self.root / "state" / "passwords.csv") as handle:
            self.passwords = {row["user"]: row["password"] for row in csv.DictReader(handle)}
        self.base = f"http://127.0.0.1:{self.instance['ports']['public']}"

    def script(self, name, *arguments, timeout=300):
        """Run deploy/jupyterhub/NAME with this hub's --root and return the CompletedProcess.

        The seconds it took are recorded in ``timings[name]``.
        """
        start = time.monotonic()
        result = subprocess.run([str(DEPLOY / name), "--root", str(self.root), *map(str, arguments)],
                                capture_output=True, text=True, timeout=timeout)
        self.timings[name] = round(time.monotonic() - start, 1)
        return result

    def api(self, method, path, form=None, body=None, token=None):
        """Call the hub or a user server through the proxy; return (HTTP status, decoded JSON or text)."""
        headers = {"Authorization": f"token {token or self.token}"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def start_servers(self, names, timeout=120):
        """Ask the hub to start the servers of ``names`` together; return {name: seconds until ready}."""
        start = time.monotonic()
        for name in names:
            status, reply = self.api("POST", f"/hub/api/users/{name}/server")
            if status not in (201, 202):
                raise RuntimeError(f"starting {name}'s server failed: HTTP {status} {reply}")
        ready = {}
        while len(ready) < len(names):
            for name in names:
                if name in ready:
                    continue
                status, user = self.api("GET", f"/hub/api/users/{name}")
                server = user.get("servers", {}).get("") if status == 200 else None
                if server and server.get("ready"):
                    ready[name] = time.monotonic() - start
            if time.monotonic() - start > timeout:
                missing = sorted(set(names) - set(ready))
                raise TimeoutError(f"servers of {missing} not ready after {timeout} s; see {self.root}/state/jupyterhub.log")
            time.sleep(0.2)
        return ready

    def assignment_action(self, student, action, assignment):
        """POST an nbgrader action (fetch, submit, fetch_feedback) to the student's server and return its listing.

        These are the requests that JupyterLab's Assignments panel sends.
        """
        form = {"course_id": self.instance["course_id"], "assignment_id": assignment}
        status, reply = self.api("POST", f"/user/{student}/assignments/{action}", form=form)
        if status != 200 or not isinstance(reply, dict) or not reply.get("success"):
            raise RuntimeError(f"{action} of {assignment} for {student} failed: HTTP {status} {reply}")
        return reply["value"]

    def answer_and_submit(self, student, assignment, source_notebook, correct_questions):
        """Write answers into the student's fetched notebook through the contents API, then submit it."""
        path = f"/user/{student}/api/contents/{assignment}/{assignment}.ipynb"
        status, model = self.api("GET", path)
        if status != 200:
            raise RuntimeError(f"{student} cannot open the fetched notebook: HTTP {status} {model}")
        notebook = fill_answers(model["content"], source_notebook, correct_questions)
        status, reply = self.api("PUT", path, body={"type": "notebook", "format": "json", "content": notebook})
        if status != 200:
            raise RuntimeError(f"saving {student}'s answers failed: HTTP {status} {reply}")
        return self.assignment_action(student, "submit", assignment)

    def memory_of(self, name):
        """Return the proportional set size (PSS) in bytes of all processes of user ``name``."""
        return sum(process_pss(pid) for pid in processes_of(pwd.getpwnam(name).pw_uid))


def user_exists(name):
    """Return True when the unix user ``name`` exists."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def processes_of(uid):
    """Return the ids of the running processes whose real user id is ``uid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("Uid:") and int(line.split()[1]) == uid:
                pids.append(int(entry.name))
                break
    return pids


def process_pss(pid):
    """Return the PSS of process ``pid`` in bytes (shared pages split between the processes sharing them), 0 if gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


def question_number(grade_id):
    """Return the question number of a grade_id such as ``q3_bound``, or None."""
    match = re.match(r"q(\d+)_", grade_id or "")
    return int(match.group(1)) if match else None


def fill_answers(notebook, source_notebook, correct_questions):
    """Return the fetched ``notebook`` (a JSON dict) with its answer cells filled in.

    Answers of ``correct_questions`` are the source notebook's solutions with the solution
    markers removed. Every other code answer keeps its stub with ``return None`` in place of
    the ``raise NotImplementedError``, which runs but is wrong.
    """
    source = json.loads(Path(source_notebook).read_text())
    solutions = {
        cell["metadata"]["nbgrader"]["grade_id"]: "".join(cell["source"])
        for cell in source["cells"]
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution")
    }
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("solution"):
            continue
        grade_id = meta["grade_id"]
        if question_number(grade_id) in correct_questions:
            lines = solutions[grade_id].splitlines()
            cell["source"] = "\n".join(line for line in lines if line.strip() not in SOLUTION_MARKERS)
        elif cell["cell_type"] == "code":
            cell["source"] = re.sub(r"raise NotImplementedError\(.*\)", "return None", "".join(cell["source"]))
    return notebook
