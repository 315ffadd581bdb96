"""Launch the grading kernel with resource limits, and guard it between test cells.

The grader starts ``python -m grader.kernel --memory-mb M --file-mb F -- <ipykernel arguments>``
in place of ``python -m ipykernel_launcher``. The launcher sets the resource limits, replaces
its environment with a short allow-list (so student code cannot read the grader's variables
from ``os.environ`` or ``/proc/self/environ``), and then runs ipykernel in the same process.

Before the first cell and before each graded test cell the grader evaluates ``check(token)``
through the execute request's ``user_expressions``. The first call records the state. Later
calls put back whatever student code replaced, and report it. They cover the module
functions of numpy, sympy, math and builtins and of the grading helpers. They also cover
IPython's input and AST transformers, event callbacks and custom exception handlers, the
shell's and kernel's methods, trace functions, the standard streams and the SIGINT handler.
Code written against this module can still defeat it, because it runs in the same process
as the student's code.
"""

import importlib
import json
import os
import signal
import sys
import threading

# Modules whose functions the hidden tests call, and the grading helpers themselves.
WATCHED_MODULES = [
    "builtins",
    "math",
    "cmath",
    "fractions",
    "numbers",
    "operator",
    "numpy",
    "numpy.linalg",
    "numpy.random",
    "numpy.testing",
    "sympy",
    "grader.checks",
]

# Packages whose IPython hooks are left in place (matplotlib's inline backend adds a
# post_execute callback the first time pyplot is imported; %autoreload adds others).
TRUSTED_HOOK_PACKAGES = {"IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets"}

# Environment variables the kernel keeps; everything else is dropped.
KEPT_VARIABLES = ["PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "MPLCONFIGDIR", "JPY_PARENT_PID"]
FIXED_VARIABLES = {
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
CLEAN_FLAG = "--environment-cleaned"

_modules = {}  # name -> (module object, copy of its namespace)
_MISSING = object()
_baseline = None  # state of the shell and kernel before the first cell, filled by the first check


def _set_limits(memory_mb, file_mb):
    """Cap the address space and the size of written files, and disable core dumps."""
    import resource

    limits = [
        (resource.RLIMIT_AS, memory_mb * 2**20),
        (resource.RLIMIT_FSIZE, file_mb * 2**20),
        (resource.RLIMIT_CORE, 0),
    ]
    for kind, value in limits:
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(kind, (value, hard))
        except (ValueError, OSError):
            pass  # macOS rejects RLIMIT_AS; the kernel then runs without that limit


def clean_environment(environment):
    """Return the allow-listed variables of ``environment`` plus the fixed grading settings."""
    kept = {name: environment[name] for name in KEPT_VARIABLES if name in environment}
    kept.update(FIXED_VARIABLES)
    return kept


def _snapshot_modules():
    """Import the watched modules and copy their namespaces."""
    for name in WATCHED_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        _modules[name] = (module, dict(vars(module)))


def _is_method(value):
    return callable(value) or isinstance(value, (property, staticmethod, classmethod))


def _class_state(classes):
    """Return {class: copy of its namespace} for the classes that drive cell execution."""
    state = {}
    for cls in classes:
        for base in cls.__mro__:
            if base is not object and base not in state:
                state[base] = {name: value for name, value in vars(base).items() if _is_method(value)}
    return state


def _take_baseline(shell):
    """Record the shell and kernel state before any notebook code runs."""
    kernel = getattr(shell, "kernel", None)
    return {
        "transformers": {
            "input_transformers_cleanup": list(shell.input_transformers_cleanup),
            "input_transformers_post": list(shell.input_transformers_post),
            "ast_transformers": list(shell.ast_transformers),
        },
        "events": {name: list(callbacks) for name, callbacks in shell.events.callbacks.items()},
        "custom_exceptions": shell.custom_exceptions,
        "instances": {id(obj): (obj, dict(vars(obj))) for obj in (shell, kernel) if obj is not None},
        "classes": _class_state([type(shell)] + ([type(kernel)] if kernel is not None else [])),
        "sys": {name: getattr(sys, name) for name in ("stdout", "stderr", "excepthook", "displayhook")},
        "sigint": signal.getsignal(signal.SIGINT),
    }


def _restore_namespace(label, namespace, saved, changes):
    """Put back entries of ``namespace`` that differ from ``saved``; report each one."""
    for name, value in saved.items():
        current = namespace.get(name, _MISSING)
        if current is not value:
            changes.append(f"{label}.{name} was replaced")
            namespace[name] = value



def _restore_modules(changes):
    for name, (module, saved) in _modules.items():
        if sys.modules.get(name) is not module:
            changes.append(f"sys.modules[{name!r}] was replaced")
            sys.modules[name] = module
        _restore_namespace(name, vars(module), saved, changes)


def _restore_instances(baseline, changes):
    for obj, saved in baseline["instances"].values():
        namespace = vars(obj)
        label = type(obj).__name__
        for name, value in list(namespace.items()):
            if name in saved:
                if value is not saved[name] and callable(saved[name]):
                    changes.append(f"{label}.{name} was replaced")
                    namespace[name] = saved[name]
            elif callable(value) and hasattr(type(obj), name):
                changes.append(f"{label}.{name} was overridden on the instance")
                del namespace[name]
    for cls, saved in baseline["classes"].items():
        namespace = vars(cls)
        for name, value in saved.items():
            if namespace.get(name, _MISSING) is not value:
                changes.append(f"{cls.__name__}.{name} was replaced")
                setattr(cls, name, value)


def _trusted(hook):
    """Return True for hooks that Jupyter's own packages install, such as the inline plots' flush."""
    module = getattr(hook, "__module__", None) or getattr(type(hook), "__module__", "")
    return module.split(".")[0] in TRUSTED_HOOK_PACKAGES


def _restore_hooks(label, current, saved, changes):
    """Keep the hooks of ``saved`` and trusted new ones in the list ``current``; report the others."""
    foreign = [hook for hook in current if hook not in saved and not _trusted(hook)]
    missing = [hook for hook in saved if hook not in current]
    if foreign or missing:
        changes.append(f"IPython {label} were changed")
        current[:] = saved + [hook for hook in current if hook not in saved and _trusted(hook)]


def _restore_shell(shell, baseline, changes):
    for name, saved in baseline["transformers"].items():
        _restore_hooks(name, getattr(shell, name), saved, changes)
    for event, saved in baseline["events"].items():
        current = shell.events.callbacks.setdefault(event, [])
        _restore_hooks(f"callbacks for {event!r}", current, saved, changes)
    if shell.custom_exceptions != baseline["custom_exceptions"]:
        changes.append("IPython custom exception handlers were installed")
        shell.custom_exceptions = baseline["custom_exceptions"]


def _restore_process(baseline, changes):
    if sys.gettrace() is not None or sys.getprofile() is not None:
        changes.append("a trace or profile function was installed")
        sys.settrace(None)
        sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    for name, value in baseline["sys"].items():
        if getattr(sys, name) is not value:
            changes.append(f"sys.{name} was replaced")
            setattr(sys, name, value)
    if signal.getsignal(signal.SIGINT) is not baseline["sigint"]:
        changes.append("the SIGINT handler was changed")
        signal.signal(signal.SIGINT, baseline["sigint"])


def _ignore_exit():
    print("exit() and quit() are ignored while the notebook is graded")


def check(token):
    """Restore the grading state and return a JSON report that echoes ``token``.

    The first call records the state; later calls restore it and list what had changed.
    """
    global _baseline
    shell = sys.modules["IPython"].get_ipython()
    changes = []
    if _baseline is None:
        # exit() and quit() in a cell would stop the kernel during the next cell; in grading they do nothing.
        shell.ask_exit = _ignore_exit
        _snapshot_modules()
        _baseline = _take_baseline(shell)
    else:
        _restore_modules(changes)
        _restore_shell(shell, _baseline, changes)
        _restore_instances(_baseline, changes)
        _restore_process(_baseline, changes)
    report = {
        "token": token,
        "changes": changes,
        "lib_loaded": any(name == "lib" or name.startswith("lib.") for name in sys.modules),
    }
    return json.dumps(report)


def main(argv):
    """Apply the limits, clean the environment, then run ipykernel with the remaining arguments."""
    separator = argv.index("--")
    options, kernel_arguments = argv[:separator], argv[separator + 1:]

    if CLEAN_FLAG not in options:
        values = dict(option.split("=", 1) for option in options if option.startswith("--") and "=" in option)
        _set_limits(int(values["--memory-mb"]), int(values["--file-mb"]))
        command = [sys.executable, "-m", "grader.kernel", *options, CLEAN_FLAG, "--", *kernel_arguments]
        os.execve(sys.executable, command, clean_environment(os.environ))

    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=kernel_arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
