"""Set up, start, stop, grade on and tear down a local JupyterHub that runs the course for a class.

Run as root with the system Python (standard library only), through the wrappers next to this
file: setup, start, stop, status, release, grade, export, teardown. docs/jupyterhub.md walks through them.
Everything an installation creates is recorded in ROOT/instance.json, and teardown removes
exactly that: the unix users it created (homes included), their processes and ROOT.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import hub_build
import hub_grading
import hub_users

REPOSITORY = hub_build.HERE.parent.parent
CONFIG = hub_build.HERE / "jupyterhub_config.py"
DEFAULT_ROOT = Path("/srv/nn-theory-hub")
DEFAULT_CACHE = Path("/opt/nn-theory-hub")
INSTANCE_KIND = "nn-theory-hub"
DEFAULT_PORTS = {"public": 8000, "hub": 8081, "proxy_api": 8001}


# Instance file


def instance_path(root):
    return Path(root) / "instance.json"


def load_instance(root):
    """Return the settings that setup recorded under ``root``, or exit if it contains no installation."""
    path = instance_path(root)
    if not path.exists():
        raise SystemExit(f"No hub installation at {root} ({path} not found); run setup first.")
    instance = json.loads(path.read_text())
    if instance.get("kind") != INSTANCE_KIND:
        raise SystemExit(f"{path} was not written by deploy/jupyterhub/setup; pick another --root.")
    return instance


def save_instance(instance):
    path = instance_path(instance["root"])
    path.write_text(json.dumps(instance, indent=2) + "\n")
    path.chmod(0o644)


def state_folder(instance):
    return Path(instance["root"]) / "state"


def public_url(instance):
    return f"http://127.0.0.1:{instance['ports']['public']}"


# Processes


def process_alive(pid, name):
    """Return True if process ``pid`` runs and its command line contains ``name``."""
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    return name in command_line


def read_pid(path):
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def hub_pid(instance):
    """Return the id of the running hub process, or None."""
    pid = read_pid(state_folder(instance) / "jupyterhub.pid")
    if pid is not None and process_alive(pid, "jupyterhub"):
        return pid
    return None


def terminate(pid, name, timeout):
    """Send SIGTERM to ``pid``; send SIGKILL if it is still running after ``timeout`` seconds."""
    if not process_alive(pid, name):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid, name):
            return
        time.sleep(0.2)
    print(f"{name} (process {pid}) did not stop within {timeout:.0f} s; sending SIGKILL", flush=True)
    os.kill(pid, signal.SIGKILL)


def check_ports_free(ports):
    """Exit with a message naming the first of ``ports`` (a dict of option name to port) that is in use on 127.0.0.1."""
    for option, port in ports.items():
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError as error:
                raise SystemExit(f"Port {port} on 127.0.0.1 is not free ({error.strerror}); "
                                 f"pick another with --{option.replace('_', '-')}.")


def wait_for_hub(instance, process, timeout):
    """Wait until the hub responds through the proxy; stop it and exit with the end of its log if it fails or times out."""
    url = f"{public_url(instance)}/hub/api"
    log = state_folder(instance) / "jupyterhub.log"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                json.load(response)
            return
        except (OSError, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                reason = f"did not respond within {timeout:.0f} s and was stopped"
                stop_hub(instance)
            else:
                reason = f"exited with status {process.returncode}"
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise SystemExit(f"JupyterHub {reason}. End of {log}:\n{tail}")
        time.sleep(0.3)


# Commands


def require_root():
    if os.geteuid() != 0:
        raise SystemExit("Run this as root: the hub creates unix users and starts servers as them.")


def command_setup(args):
    """Build the environment, create the users, the exchange and the instructor's course folder."""
    require_root()
    root = Path(args.root).resolve()
    if instance_path(root).exists():
        raise SystemExit(f"A hub is already set up at {root}; run teardown first, or pick another --root.")
    students = hub_users.read_roster(args.roster)
    instructor = args.instructor
    if not hub_users.USER_NAME.fullmatch(instructor):
        raise SystemExit(f"Invalid instructor name {instructor!r}: use lower-case letters, digits, '-' and '_'.")
    if instructor in students:
        raise SystemExit(f"The instructor {instructor!r} is also in the roster {args.roster}.")
    grading_user = f"{instructor}-grader"
    if len(grading_user) > 32 or grading_user in students:
        raise SystemExit(f"The grading user's name {grading_user!r} is too long or in the roster; pick another instructor name.")
    for name in [instructor, *students, grading_user]:
        if hub_users.user_exists(name):
            raise SystemExit(f"User {name!r} already exists; setup only creates new users.")
        if Path("/home", name).exists():
            raise SystemExit(f"/home/{name} already exists; remove it or pick another name.")

    venv, proxy = hub_build.build(REPOSITORY, Path(args.cache))
    course_id = subprocess.run(
        [venv / "bin" / "python", "-c", "from grader.settings import COURSE_ID; print(COURSE_ID)"],
        check=True, capture_output=True, text=True, env=hub_build.clean_environment(),
    ).stdout.strip()

    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    state = root / "state"
    state.mkdir(mode=0o700, exist_ok=True)
    exchange = root / "exchange"
    exchange.mkdir(exist_ok=True)
    exchange.chmod(0o1777)

    instance = {
        "kind": INSTANCE_KIND,
        "root": str(root),
        "repository": str(REPOSITORY),
        "venv": str(venv),
        "proxy": str(proxy),
        "exchange": str(exchange),
        "course_id": course_id,
        "instructor": instructor,
        "students": students,
        "grading_user": grading_user,
        "course_dir": f"/home/{instructor}/{course_id}",
        "created_users": [],
        "ports": dict(DEFAULT_PORTS),
    }
    save_instance(instance)

    passwords = {}
    for name in [instructor, *students]:
        passwords[name] = hub_users.create_user(name)
        instance["created_users"].append(name)
        save_instance(instance)
    hub_users.create_user(grading_user, login=False)
    instance["created_users"].append(grading_user)
    instance["course_dir"] = str(hub_users.home_of(instructor) / course_id)
    save_instance(instance)

    for name in students:
        hub_users.configure_student(name, exchange, course_id)
    hub_users.configure_instructor(instructor, exchange, course_id, instance["course_dir"])
    hub_grading.copy_course(instance)

    token_file = state / "api_token"
    token_file.write_text(secrets.token_hex(32) + "\n")
    token_file.chmod(0o600)
    password_file = state / "passwords.csv"
    password_file.write_text("user,password\n" + "".join(f"{name},{password}\n" for name, password in passwords.items()))
    password_file.chmod(0o600)

    print(f"Set up a hub for {len(students)} students and the instructor {instructor} in {root}.")
    print(f"Passwords (hand them out, then delete the file): {password_file}")
    print(f"Course folder of the instructor: {instance['course_dir']}")
    print("Next: deploy/jupyterhub/start")


def command_start(args):
    """Start the hub, its proxy and (on login) the user servers, all on 127.0.0.1."""
    require_root()
    instance = load_instance(args.root)
    if hub_pid(instance) is not None:
        raise SystemExit(f"The hub is already running at {public_url(instance)}.")
    check_ports_free({"port": args.port, "hub_port": args.hub_port, "proxy_api_port": args.proxy_api_port})
    instance["ports"] = {"public": args.port, "hub": args.hub_port, "proxy_api": args.proxy_api_port}
    save_instance(instance)

    state = state_folder(instance)
    venv = Path(instance["venv"])
    environment = hub_build.clean_environment(
        PATH=f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
        NN_THEORY_HUB_INSTANCE=str(instance_path(instance["root"])),
    )
    with open(state / "jupyterhub.log", "a") as log:
        process = subprocess.Popen(
            [venv / "bin" / "jupyterhub", "-f", CONFIG],
            cwd=state, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    start = time.monotonic()
    wait_for_hub(instance, process, args.timeout)
    print(f"JupyterHub is running at {public_url(instance)} (process {process.pid}, "
          f"ready in {time.monotonic() - start:.1f} s). Log: {state / 'jupyterhub.log'}")


def stop_hub(instance):
    """Stop the hub (which stops the user servers and the proxy), then any proxy left behind."""
    state = state_folder(instance)
    pid = hub_pid(instance)
    if pid is not None:
        terminate(pid, "jupyterhub", timeout=30)
        print(f"Stopped JupyterHub (process {pid}).", flush=True)
    proxy_pid = read_pid(state / "proxy.pid")
    if proxy_pid is not None and process_alive(proxy_pid, "configurable-http-proxy"):
        terminate(proxy_pid, "configurable-http-proxy", timeout=10)
        print(f"Stopped configurable-http-proxy (process {proxy_pid}).", flush=True)
    for name in ("jupyterhub.pid", "proxy.pid"):
        (state / name).unlink(missing_ok=True)


def command_stop(args):
    require_root()
    stop_hub(load_instance(args.root))


def command_status(args):
    instance = load_instance(args.root)
    pid = hub_pid(instance)
    running = f"running at {public_url(instance)} (process {pid})" if pid else "not running"
    print(f"Hub at {instance['root']}: {running}")
    print(f"Instructor: {instance['instructor']}; course folder {instance['course_dir']}")
    print(f"Students ({len(instance['students'])}): {' '.join(instance['students'])}")
    print(f"Exchange: {instance['exchange']}; environment: {instance['venv']}")


def command_release(args):
    require_root()
    hub_grading.release(load_instance(args.root), args.assignment)


def command_grade(args):
    require_root()
    hub_grading.grade(load_instance(args.root), args.assignment, workers=args.workers)


def command_export(args):
    require_root()
    hub_grading.export(load_instance(args.root))


def command_teardown(args):
    """Stop the hub, delete the users that setup created (homes included) and the installation folder."""
    require_root()
    root = Path(args.root).resolve()
    if not instance_path(root).exists():
        print(f"No hub installation at {root}; nothing to tear down.")
    else:
        instance = load_instance(root)
        stop_hub(instance)
        for name in instance["created_users"]:
            hub_users.remove_user(name)
            print(f"Removed user {name} and its home.", flush=True)
        shutil.rmtree(root)
        print(f"Removed {root}.")
    if args.purge_cache:
        shutil.rmtree(args.cache, ignore_errors=True)
        print(f"Removed the cached environments in {args.cache}.")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=DEFAULT_ROOT, type=Path,
                        help=f"folder of this hub's state, exchange and settings (default {DEFAULT_ROOT})")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name, handler, help_text):
        command = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(handler=handler)
        return command

    setup = add("setup", command_setup, "build the environment, create the users, the exchange and the course folder")
    setup.add_argument("--roster", required=True, help="file with one student user name per line")
    setup.add_argument("--instructor", required=True, help="user name of the instructor")
    setup.add_argument("--cache", default=DEFAULT_CACHE, type=Path,
                       help=f"folder of the cached virtual environment and proxy (default {DEFAULT_CACHE})")

    start = add("start", command_start, "start the hub and its proxy in the background, on 127.0.0.1")
    start.add_argument("--port", type=int, default=DEFAULT_PORTS["public"], help="public port of the proxy")
    start.add_argument("--hub-port", type=int, default=DEFAULT_PORTS["hub"], help="port of the hub's internal API")
    start.add_argument("--proxy-api-port", type=int, default=DEFAULT_PORTS["proxy_api"], help="port of the proxy's API")
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the hub to respond")

    add("stop", command_stop, "stop the hub, the proxy and the user servers")
    add("status", command_status, "show whether the hub runs and who its users are")

    release = add("release", command_release, "generate the student version of an assignment and release it")
    release.add_argument("assignment", help="assignment name, for example hw1")

    grade = add("grade", command_grade, "collect, autograde, export the grades and return feedback")
    grade.add_argument("assignment", help="assignment name, for example hw1")
    grade.add_argument("--workers", type=int, default=None,
                       help="submissions graded in parallel (default: the grader's own default)")

    add("export", command_export, "write all grades, manual ones included, from the instructor's gradebook to a CSV file")

    teardown = add("teardown", command_teardown, "stop the hub and delete its users, their homes and the hub's folder")
    teardown.add_argument("--purge-cache", action="store_true", help="also delete the cached environments")
    teardown.add_argument("--cache", default=DEFAULT_CACHE, type=Path, help=f"cache folder (default {DEFAULT_CACHE})")
    return parser.parse_args(argv)


def main(argv=None):
    os.umask(0o022)
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    args.handler(args)


if __name__ == "__main__":
    main()
