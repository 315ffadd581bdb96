"""Unix users of the hub: create them with private homes and their Jupyter config, run commands as them, remove them."""

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import string
import subprocess
import time
from pathlib import Path

from hub_build import HERE, INSTRUCTOR_LAB_EXTENSIONS, INSTRUCTOR_SERVER_EXTENSION
from hubclient import processes_of, user_exists

# Debian's default NAME_REGEX for useradd, at most 32 characters.
USER_NAME = re.compile(r"[a-z][-a-z0-9_]{0,31}")


def read_roster(path):
    """Return the student names in a roster file: one per line, '#' starts a comment."""
    names = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if not USER_NAME.fullmatch(name):
            raise SystemExit(f"{path}:{number}: invalid user name {name!r}: use lower-case letters, "
                             "digits, '-' and '_', starting with a letter, at most 32 characters.")
        names.append(name)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SystemExit(f"{path}: these student names appear more than once: {', '.join(duplicates)}.")
    return names


def home_of(name):
    return Path(pwd.getpwnam(name).pw_dir)


def create_user(name, login=True):
    """Create ``name`` with its own group and a home of mode 700; return its new password, or None without ``login``.

    Debian's useradd makes homes 755, which would let students read each other's work and
    the instructor's solutions. Without ``login`` the account's password stays locked.
    """
    if user_exists(name):
        raise SystemExit(f"User {name!r} already exists; setup only creates new users. Pick another name.")
    if Path("/home", name).exists():
        raise SystemExit(f"/home/{name} already exists; remove it or pick another name.")
    subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
                    "--comment", "nn-theory hub user", name], check=True)
    home_of(name).chmod(0o700)
    if not login:
        return None
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True)
    return password


def user_environment(name, venv):
    """Return the environment a command run as ``name`` gets: the hub's venv first on PATH."""
    entry = pwd.getpwnam(name)
    return {
        "HOME": entry.pw_dir,
        "USER": name,
        "LOGNAME": name,
        "SHELL": entry.pw_shell,
        "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }


def run_as(name, venv, command, cwd=None, **kwargs):
    """Run ``command`` as user ``name`` (no supplementary groups) and return the CompletedProcess."""
    entry = pwd.getpwnam(name)
    return subprocess.run(
        [str(part) for part in command],
        user=entry.pw_uid,
        group=entry.pw_gid,
        extra_groups=[],
        env=user_environment(name, venv),
        cwd=cwd or entry.pw_dir,
        **kwargs,
    )


def write_owned(path, text, owner, mode=0o644):
    """Write ``text`` to ``path`` inside the home of ``owner``, creating folders; the file and its folders below the home belong to ``owner``."""
    entry = pwd.getpwnam(owner)
    home = Path(entry.pw_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    current = path
    while current != home and home in current.parents:
        os.chown(current, entry.pw_uid, entry.pw_gid)
        current = current.parent


def nbgrader_config(exchange, course_id, course_dir=None):
    """Return the text of a user's nbgrader_config.py from the template next to this file."""
    template = string.Template((HERE / "nbgrader_config.py").read_text())
    text = template.substitute(exchange=exchange, course_id=course_id)
    if course_dir is not None:
        text += (
            "\n# The instructor's course folder, and the course's nbgrader options (answer stubs,\n"
            "# cell timeout) as python -m grader sets them.\n"
            f'c.CourseDirectory.root = "{course_dir}"\n'
            "from grader import settings  # noqa: E402\n"
            "settings.configure(c)\n"
        )
    return text


def configure_student(name, exchange, course_id):
    """Write the student's nbgrader settings."""
    home = home_of(name)
    write_owned(home / ".jupyter" / "nbgrader_config.py", nbgrader_config(exchange, course_id), name)


def configure_instructor(name, exchange, course_id, course_dir):
    """Write the instructor's nbgrader settings and enable the formgrader for this user only.

    ``jupyter server extension enable --user`` does not work for the formgrader, so the
    server and lab settings are written here directly.
    """
    home = home_of(name)
    jupyter = home / ".jupyter"
    write_owned(jupyter / "nbgrader_config.py", nbgrader_config(exchange, course_id, course_dir), name)
    server = {"ServerApp": {"jpserver_extensions": {INSTRUCTOR_SERVER_EXTENSION: True}}}
    write_owned(jupyter / "jupyter_server_config.json", json.dumps(server, indent=2) + "\n", name)
    page = {"disabledExtensions": {extension: False for extension in INSTRUCTOR_LAB_EXTENSIONS}}
    write_owned(jupyter / "labconfig" / "page_config.json", json.dumps(page, indent=2) + "\n", name)


def end_processes(uid, timeout=10.0):
    """Send SIGTERM to each process of ``uid`` by id, then SIGKILL to those left after ``timeout`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = processes_of(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and processes_of(uid):
            time.sleep(0.2)


def remove_temporary_files(uid):
    """Remove entries directly under /tmp and /dev/shm owned by ``uid`` (matplotlib caches and the like)."""
    for folder in (Path("/tmp"), Path("/dev/shm")):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            try:
                if entry.lstat().st_uid != uid:
                    continue
            except OSError:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def remove_user(name):
    """End the processes of ``name``, then delete the user, its group, its home and its temporary files."""
    if not user_exists(name):
        return
    uid = pwd.getpwnam(name).pw_uid
    end_processes(uid)
    remove_temporary_files(uid)
    result = subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
    # userdel warns about the mail spool that useradd never created: show every other message.
    messages = [line for line in result.stderr.splitlines() if "mail spool" not in line]
    if result.returncode != 0 or messages:
        print(f"userdel {name} (exit status {result.returncode}): {' '.join(messages)}", flush=True)
    if result.returncode != 0:
        raise SystemExit(f"Could not remove user {name!r}; remove it by hand with `userdel --remove {name}`.")
