"""nbgrader's Execute step with resource limits, a guarded kernel and a hard stop per cell.

``GuardedExecute`` replaces nbgrader's ``Execute`` in the autograde pipeline. It starts the
kernel through ``grader.kernel``, which applies memory and file-size limits and a clean
environment, in a working folder that contains only the assignment's data files. It caps
the output kept per cell, runs the kernel guard before every graded test cell, and records
how each cell's execution ended. A cell that kills the kernel, or that keeps running after
the interrupt, raises ``KernelStopped`` naming the cell, so the caller can skip that cell
and run the notebook again.
"""

import ast
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader import utils as nbgrader_utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Float, Integer, Unicode

TIMEOUT_ENAME = "CellTimeoutError"
GUARD_SECONDS = 30

# Execution records of this process's runs, newest last: nbgrader catches the exceptions
# raised inside a preprocessor, so the caller reads the outcome from here.
RUNS = []


class KernelStopped(Exception):
    """The kernel died, or could not be stopped, while it ran the cell at ``cell_index``."""

    def __init__(self, cell_index, reason):
        super().__init__(f"cell {cell_index}: {reason}")
        self.cell_index = cell_index
        self.reason = reason


class LimitedKernelManager(AsyncKernelManager):
    """Kernel manager that starts ipykernel through the limiting launcher ``grader.kernel``."""

    memory_mb = Integer(3072, help="address-space limit of the kernel in MiB").tag(config=True)
    file_mb = Integer(200, help="largest file the kernel may write, in MiB").tag(config=True)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if "ipykernel_launcher" not in command:
            raise RuntimeError(f"grading needs the python3 kernel (ipykernel); its command is {command}")
        arguments = command[command.index("ipykernel_launcher") + 1:]
        limits = [f"--memory-mb={self.memory_mb}", f"--file-mb={self.file_mb}"]
        return [sys.executable, "-m", "grader.kernel", *limits, "--", *arguments]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        # Whatever the kernel process writes to its own stdout and stderr (ipykernel's warnings,
        # os.write(2, ...) from student code) must not reach the grader's console.
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_launch_kernel(kernel_cmd, **kw)


class GuardedExecute(Execute):
    """nbgrader's Execute preprocessor, hardened for untrusted notebooks."""

    work_dir = Unicode("", help="working folder of the kernel").tag(config=True)
    guard = Bool(True, help="run the kernel guard before each graded test cell").tag(config=True)
    max_output_chars = Integer(20_000, help="characters of printed output kept per cell (100 times more for images)").tag(config=True)
    skipped = Dict(help="cells not to run, as {cell index: reason}, after they stopped the kernel").tag(config=True)
    stop_grace = Float(3.0, help="seconds after the cell timeout and the output wait before the kernel is killed").tag(config=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("kernel_manager_class", LimitedKernelManager)
        super().__init__(**kwargs)
        self.shutdown_kernel = "immediate"  # nothing in the kernel needs a graceful shutdown
        self.error_on_timeout = {
            "ename": TIMEOUT_ENAME,
            "evalue": f"the cell ran longer than {self.timeout} s and was interrupted",
            "traceback": [f"{TIMEOUT_ENAME}: the cell ran longer than {self.timeout} s and was interrupted"],
        }

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        if self.work_dir:
            resources.setdefault("metadata", {})["path"] = self.work_dir
        self.run_log = resources.setdefault("grader_run", {"cells": {}, "guard": {}, "tampered_at": None, "stopped": None})
        RUNS.append(self.run_log)
        for index, reason in self.skipped.items():
            nb.cells[int(index)].metadata.setdefault("tags", []).append(self.skip_cells_with_tag)
            self.run_log["cells"][int(index)] = {"skipped": reason}
        self.output_chars = {}
        self.guard_ready = False
        return super().preprocess(nb, resources, km)

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

        hard_limit = (self._get_timeout(cell) or 3600) + self.iopub_timeout + self.stop_grace
        try:
            if self.guard and not self.guard_ready:
                await self._run_guard(cell_index)
                self.guard_ready = True
            elif self.guard and nbgrader_utils.is_grade(cell):
                await self._run_guard(cell_index)
            execution = super().async_execute_cell(cell, cell_index, execution_count, store_history)
            return await asyncio.wait_for(execution, hard_limit)
        except asyncio.TimeoutError:
            await self._kill_kernel()
            reason = f"it was still running {hard_limit:.0f} s after it started and was killed"
        except CellTimeoutError:
            await self._kill_kernel()
            reason = f"it ran longer than {self.timeout} s and ignored the interrupt, so the kernel was killed"
        except DeadKernelError:
            reason = "the kernel died while it ran (a crash, os._exit, or the memory limit)"
        self.run_log["stopped"] = (cell_index, reason)
        raise KernelStopped(cell_index, reason)

    execute_cell = run_sync(async_execute_cell)

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        content = kwargs["execute_reply"]["content"]
        self.run_log["cells"][kwargs["cell_index"]] = {
            "status": content.get("status"),
            "ename": content.get("ename"),
            "evalue": content.get("evalue"),
            "timed_out": content.get("ename") == TIMEOUT_ENAME,
        }

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            used = self.output_chars.setdefault(cell_index, {"text": 0, "rich": 0})
            _cap_output(outs, out, used, self.max_output_chars)
        return out

    async def _kill_kernel(self):
        """Kill the kernel's whole process group; it runs in a session of its own."""
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                process.kill()

    async def _run_guard(self, cell_index):
        """Restore the kernel's grading state, or mark the run tampered when the guard gives no valid report."""
        if self.run_log["tampered_at"] is not None:
            return
        await self._async_check_alive()  # raises DeadKernelError rather than waiting for a reply
        token = secrets.token_hex(16)
        expression = f"__import__('grader.kernel').kernel.check({token!r})"
        report = None
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False, user_expressions={"guard": expression})
            reply = await asyncio.wait_for(self._wait_for_shell_reply(msg_id), GUARD_SECONDS)
            report = _parse_guard_reply(reply, token)
        except asyncio.TimeoutError:
            report = None
        if report is None:
            self.run_log["tampered_at"] = cell_index
            return
        if report["changes"] or report["lib_loaded"]:
            self.run_log["guard"][cell_index] = report

    async def _wait_for_shell_reply(self, msg_id):
        while True:
            msg = await self.kc.shell_channel.get_msg(timeout=None)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg


def _parse_guard_reply(reply, token):
    """Return the guard's report, or None when the reply is missing, malformed or not ours."""
    content = reply.get("content", {})
    result = content.get("user_expressions", {}).get("guard", {})
    if content.get("status") != "ok" or result.get("status") != "ok":
        return None
    try:
        report = json.loads(ast.literal_eval(result["data"]["text/plain"]))
    except (KeyError, ValueError, SyntaxError, TypeError):
        return None
    if not isinstance(report, dict) or report.get("token") != token:
        return None
    return {"changes": [str(change) for change in report.get("changes", [])], "lib_loaded": bool(report.get("lib_loaded"))}


def _cap_output(outs, out, used, budget):
    """Shrink the output just appended to ``outs`` to what is left of the cell's budgets.

    ``used`` holds the characters kept so far per kind: "text" (streams, limited to
    ``budget``) and "rich" (images, HTML and results, limited to 100 times ``budget``).
    """
    if out.output_type == "stream":
        size = len(out.text)
        if used["text"] >= budget:
            outs.pop()
            return
        if used["text"] + size > budget:
            out.text = out.text[: budget - used["text"]] + f"\n... output truncated: the cell printed more than {budget} characters ...\n"
        used["text"] += len(out.text)
    elif out.output_type in ("display_data", "execute_result"):
        rich_budget = 100 * budget
        size = sum(len(value) if isinstance(value, str) else len(json.dumps(value)) for value in out.get("data", {}).values())
        if used["rich"] + size > rich_budget:
            note = f"<output of {size} characters removed: the cell's displayed output exceeded {rich_budget} characters>"
            text = out.data.get("text/plain", "")
            # A test cell's result stays readable: it may be partial credit.
            out.data = {"text/plain": text if out.output_type == "execute_result" and len(text) <= 200 else note}
            out.metadata = {}
            size = len(out.data["text/plain"])
        used["rich"] += size
    elif out.output_type == "error":
        out.evalue = out.evalue[:budget]
        out.traceback = [line[:budget] for line in out.traceback[:200]]
