"""Measure the course's JupyterHub (deploy/jupyterhub) on this machine for `make bench`.

Sets up a temporary hub with a few students (unix users named with a random prefix). It then
measures the hub's start-up, one user server's start-up alone and several together, and the
memory (PSS) of the hub, of an idle user server and of a user server whose kernel has run
lecture 1. Last, it times deploy/jupyterhub/grade on one hw1 submission per student.
Everything is torn down afterwards. It needs root, and is skipped otherwise.
"""

import importlib.util
import json
import math
import os
import secrets
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "jupyterhub"
ASSIGNMENT = "hw1"
SOURCE = ROOT / "homework" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
LECTURE = ROOT / "notebooks" / "01_architecture_design.ipynb"
STUDENTS = 4
MIB = 2**20


def load_hubclient():
    """Import deploy/jupyterhub/hubclient.py by path (deploy/ is not a package)."""
    spec = importlib.util.spec_from_file_location("hubclient", DEPLOY / "hubclient.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hubclient = load_hubclient()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def checked(result, name):
    """Return the output of a finished deploy script, raising RuntimeError if it failed."""
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"deploy/jupyterhub/{name} failed (exit status {result.returncode}):\n{output[-3000:]}")
    return output


def run_lecture_in_kernel(hub, student, timeout=300):
    """Start a kernel in the student's server and run lecture 1's code cells in it over the websocket."""
    import websocket

    status, kernel = hub.api("POST", f"/user/{student}/api/kernels", body={"name": "python3"})
    if status != 201:
        raise RuntimeError(f"starting a kernel for {student} failed: HTTP {status} {kernel}")
    url = f"ws://127.0.0.1:{hub.instance['ports']['public']}/user/{student}/api/kernels/{kernel['id']}/channels"
    connection = websocket.create_connection(url, header=[f"Authorization: token {hub.token}"], timeout=timeout)
    session = uuid.uuid4().hex
    try:
        for cell in nbformat.read(LECTURE, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            message_id = uuid.uuid4().hex
            connection.send(json.dumps({
                "header": {"msg_id": message_id, "session": session, "username": student,
                           "msg_type": "execute_request", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": cell.source, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
            }))
            while True:
                reply = json.loads(connection.recv())
                if reply.get("parent_header", {}).get("msg_id") == message_id and reply["msg_type"] == "execute_reply":
                    break
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"lecture 1 failed in {student}'s kernel: {reply['content'].get('evalue')}")
    finally:
        connection.close()


def hub_process_memory(hub):
    """Return the PSS in bytes of the hub and proxy processes."""
    state = hub.root / "state"
    total = 0
    for name in ("jupyterhub.pid", "proxy.pid"):
        try:
            total += hubclient.process_pss(int((state / name).read_text().strip()))
        except (OSError, ValueError):
            pass
    return total


def measure_on_hub(hub, students):
    """Take the measurements on a started hub; return a dict of numbers."""
    results = {"hub_pss": hub_process_memory(hub)}

    first, others = students[0], students[1:]
    results["server_alone_s"] = hub.start_servers([first])[first]
    together = hub.start_servers(others)
    results["servers_together"] = len(others)
    results["servers_together_s"] = max(together.values())
    time.sleep(2)
    results["idle_server_pss"] = statistics.median(hub.memory_of(name) for name in students)

    start = time.monotonic()
    run_lecture_in_kernel(hub, first)
    results["lecture_s"] = time.monotonic() - start
    time.sleep(1)
    results["active_student_pss"] = hub.memory_of(first)

    for student in students:
        hub.assignment_action(student, "fetch", ASSIGNMENT)
        hub.answer_and_submit(student, ASSIGNMENT, SOURCE, set(range(1, 100)))
    output = checked(hub.script("grade", ASSIGNMENT, timeout=1800), "grade")
    results["grade_s"] = hub.timings["grade"]
    results["submissions"] = len(students)
    results["grade_output"] = output
    return results


def capacity_rows(results):
    """Return markdown rows estimating how many students a machine of each size serves."""
    per_student = results["active_student_pss"] / MIB
    hub = results["hub_pss"] / MIB
    rows = []
    for memory_gib in (4, 8, 16, 32, 64):
        usable = memory_gib * 1024 - hub - 1024  # 1 GiB left for the system
        rows.append(f"| {memory_gib} GiB | {max(0, math.floor(usable / per_student))} |")
    return rows


def measure():
    """Set up a temporary hub, measure it, tear it down; print and return the markdown section."""
    heading = ["## JupyterHub (deploy/jupyterhub)", ""]
    if os.geteuid() != 0:
        print("JupyterHub: skipped, the hub benchmark creates unix users and needs root", flush=True)
        return heading + ["Skipped: the hub benchmark creates unix users, so it runs only as root."]

    prefix = "nnb" + secrets.token_hex(3)
    students = [f"{prefix}-s{number}" for number in range(1, STUDENTS + 1)]
    root = Path(tempfile.mkdtemp(prefix=f"{prefix}-hub-", dir="/tmp"))
    roster = root.with_name(root.name + "-roster.txt")
    roster.write_text("\n".join(students) + "\n")
    hub = hubclient.HubClient(root)
    try:
        checked(hub.script("setup", "--roster", roster, "--instructor", f"{prefix}-prof", timeout=1800), "setup")
        checked(hub.script("start", "--port", free_port(), "--hub-port", free_port(),
                           "--proxy-api-port", free_port()), "start")
        hub.load()
        checked(hub.script("release", ASSIGNMENT), "release")
        results = measure_on_hub(hub, students)
    finally:
        teardown = hub.script("teardown")
        roster.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        if teardown.returncode != 0:
            print(f"JupyterHub benchmark teardown failed:\n{teardown.stdout}{teardown.stderr}", flush=True)

    per_submission = results["grade_s"] / results["submissions"]
    lines = [
        f"- Setup with the cached environment: {hub.timings['setup']:.1f} s; hub start-up (script until the hub answers): {hub.timings['start']:.1f} s.",
        f"- One user server, started alone: {results['server_alone_s']:.1f} s; {results['servers_together']} started together: {results['servers_together_s']:.1f} s until the last is ready.",
        f"- Memory (PSS): hub and proxy {results['hub_pss'] / MIB:.0f} MiB; idle user server {results['idle_server_pss'] / MIB:.0f} MiB; "
        f"user server whose kernel ran lecture 1 ({results['lecture_s']:.1f} s) {results['active_student_pss'] / MIB:.0f} MiB.",
        f"- Grading {results['submissions']} submissions of {ASSIGNMENT} with deploy/jupyterhub/grade (collect, autograde, gradebook import, feedback release): "
        f"{results['grade_s']:.1f} s, {per_submission:.1f} s per submission.",
    ]
    for line in lines:
        print(line, flush=True)
    return heading + [f"A temporary hub with {STUDENTS} students, set up and torn down by tools/hub_bench.py.", ""] + lines + [
        "",
        "Students whose kernel has run lecture 1 that fit in memory (estimate: hub, plus 1 GiB for the system, plus the active student's PSS each):",
        "",
        "| machine memory | active students |",
        "|---|---|",
        *capacity_rows(results),
    ]


if __name__ == "__main__":
    print("\n".join(measure()))
