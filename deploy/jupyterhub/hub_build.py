"""Build the hub's shared virtual environment and its proxy, cached under one folder.

Both are keyed by a hash of what they are built from, so a second setup with the same pins
reuses them: the virtual environment by requirements.txt, constraints.txt and the hub's
requirements.txt, the proxy by package.json. The course's own packages (lib and grader) are
reinstalled into a cached environment whenever their sources change.
"""

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Every user must be able to run the hub's Python, so it is built from the system Python:
# an interpreter under root's home (pyenv, for example) is not executable by other users.
BASE_PYTHON = "/usr/bin/python3"

# Bump when the build steps below change, so cached environments are rebuilt.
RECIPE_VERSION = "1"

# Lab extensions that only the instructor gets: the environment disables them for everyone
# and the instructor's own ~/.jupyter enables them again.
INSTRUCTOR_LAB_EXTENSIONS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
INSTRUCTOR_SERVER_EXTENSION = "nbgrader.server_extensions.formgrader"

# JupyterLab settings for every user: no news or update checks, which would reach the internet.
LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def clean_environment(**extra):
    """Return a minimal environment for build and admin commands, plus ``extra``."""
    environment = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
    }
    environment.update(extra)
    return environment


def run(command, **kwargs):
    """Run ``command``, raising CalledProcessError with its output when it fails."""
    kwargs.setdefault("env", clean_environment())
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


def file_hash(paths, *extra):
    """Return the hex SHA-256 of the contents of ``paths`` and the ``extra`` strings."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    for text in extra:
        digest.update(text.encode() + b"\0")
    return digest.hexdigest()


@contextmanager
def cache_lock(cache):
    """Hold an exclusive lock on the cache folder, so two setups never build the same entry."""
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    with open(cache / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def requirement_name(line):
    """Return the normalised package name of a ``name==version`` line, or None for other lines."""
    line = line.split("#", 1)[0].strip()
    if "==" not in line:
        return None
    name = line.split("==", 1)[0].strip()
    return name.lower().replace("_", "-").replace(".", "-")


def merged_constraints(course_constraints, hub_requirements):
    """Return constraints.txt's lines with each package that the hub's requirements pin replaced by that pin."""
    hub_lines = [line for line in hub_requirements.read_text().splitlines() if requirement_name(line)]
    hub_names = {requirement_name(line) for line in hub_lines}
    kept = [
        line for line in course_constraints.read_text().splitlines()
        if requirement_name(line) not in hub_names
    ]
    return "\n".join(kept + hub_lines) + "\n"


def python_version():
    """Return the full version string of the base Python."""
    result = run([BASE_PYTHON, "-c", "import sys; print(sys.version)"], capture_output=True, text=True)
    return result.stdout.strip()


def ensure_system_packages():
    """Install Debian's venv module and Node.js when missing (as on a fresh Debian machine)."""
    missing = []
    if subprocess.run([BASE_PYTHON, "-c", "import ensurepip, venv"], capture_output=True).returncode != 0:
        missing.append("python3-venv")
    if shutil.which("npm") is None or shutil.which("node") is None:
        missing += ["nodejs", "npm"]
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise SystemExit(f"Missing system packages {missing}; install them and run setup again.")
    print(f"Installing {' '.join(missing)} with apt-get", flush=True)
    environment = clean_environment(DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=environment)
    run(["apt-get", "install", "-y", "-qq", *missing], env=environment, stdout=subprocess.DEVNULL)


def configure_environment(venv):
    """Hide the instructor's nbgrader extensions from everyone and turn off JupyterLab's news."""
    jupyter = venv / "bin" / "jupyter"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    run([jupyter, "server", "extension", "disable", "--sys-prefix", INSTRUCTOR_SERVER_EXTENSION], **quiet)
    run([jupyter, "labextension", "disable", "--level=sys_prefix", *INSTRUCTOR_LAB_EXTENSIONS], **quiet)
    # Disabling also locks the extensions, which would stop the instructor's config from enabling them.
    run([jupyter, "labextension", "unlock", "--level=sys_prefix", *INSTRUCTOR_LAB_EXTENSIONS], **quiet)

    settings = venv / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "overrides.json").write_text(json.dumps(LAB_OVERRIDES, indent=2) + "\n")


def build_venv(repository, cache):
    """Return the cached virtual environment for the current pins, building it if needed."""
    sources = [repository / "requirements.txt", repository / "constraints.txt", HERE / "requirements.txt"]
    key = file_hash(sources, python_version(), RECIPE_VERSION)[:16]
    venv = cache / f"venv-{key}"
    marker = venv / ".complete"
    if marker.exists():
        print(f"Reusing the virtual environment {venv}", flush=True)
        return venv

    print(f"Building the virtual environment {venv} (about a minute with a warm pip cache)", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    run([BASE_PYTHON, "-m", "venv", venv])
    constraints = venv / "hub-constraints.txt"
    constraints.write_text(merged_constraints(repository / "constraints.txt", HERE / "requirements.txt"))
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", repository / "requirements.txt", "-r", HERE / "requirements.txt", "-c", constraints])
    configure_environment(venv)
    marker.write_text(key + "\n")
    return venv


def install_course_packages(repository, venv):
    """Install lib and grader from ``repository`` into ``venv`` (not editable), unless already current."""
    sources = sorted(repository.glob("lib/*.py")) + sorted(repository.glob("grader/*.py"))
    sources.append(repository / "pyproject.toml")
    key = file_hash(sources)
    stamp = venv / ".course-packages"
    if stamp.exists() and stamp.read_text().strip() == key:
        return

    print("Installing the course's lib and grader packages into the virtual environment", flush=True)
    # Build from a copy, so pip's build folders never land in the checkout.
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "course"
        copy.mkdir()
        shutil.copy2(repository / "pyproject.toml", copy)
        for package in ("lib", "grader"):
            shutil.copytree(repository / package, copy / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--force-reinstall", copy], stdout=subprocess.DEVNULL)
    stamp.write_text(key + "\n")


def build_proxy(cache):
    """Return the path of configurable-http-proxy installed from npm into the cache."""
    key = file_hash([HERE / "package.json"], RECIPE_VERSION)[:16]
    folder = cache / f"proxy-{key}"
    executable = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    if (folder / ".complete").exists():
        return executable

    print(f"Installing configurable-http-proxy from npm into {folder}", flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(HERE / "package.json", folder / "package.json")
    run(["npm", "install", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder, stdout=subprocess.DEVNULL)
    (folder / ".complete").write_text(key + "\n")
    return executable


def build(repository, cache):
    """Return (venv, proxy executable) for ``repository``, built or reused from ``cache``."""
    ensure_system_packages()
    with cache_lock(cache):
        venv = build_venv(repository, cache)
        install_course_packages(repository, venv)
        proxy = build_proxy(cache)
    return venv, proxy
