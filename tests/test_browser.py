"""Open each lecture in a real JupyterLab in headless Chromium, run it and move one slider.

The browser is a system Chromium or Chrome (Debian's chromium at /usr/bin/chromium in CI),
never a build that Playwright downloads. Set CHROMIUM to use another executable.
Screenshots are kept under build/browser/.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from secrets import token_hex

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "browser"

# Notebook -> description of the slider the test moves (the interact keyword's name).
SLIDERS = {
    "01_architecture_design.ipynb": "alpha",
    "02_function_spaces.ipynb": "width",
    "03_optimisation.ipynb": "eta",
    "04_learning_theory.ipynb": "d",
    "05_pac_bayes.ipynb": "KL",
    "06_project_ideas.ipynb": "width",
}

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "No Chromium or Chrome found for the browser test. Install one, for example "
    "`sudo apt-get install chromium` on Debian or Ubuntu, or set CHROMIUM=/path/to/chrome. "
    "Do not run `playwright install`: the test uses a system browser."
)

pytestmark = pytest.mark.browser


def find_chromium():
    """Return the path of a system Chromium or Chrome, or None."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def free_port():
    """Return a TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_lab_settings(settings_dir):
    """Turn off JupyterLab's news fetch and notebook windowing, so every cell stays in the page."""
    overrides = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for relative, values in overrides.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Start JupyterLab on 127.0.0.1 with a token, serving a copy of notebooks/, and stop it after."""
    home = tmp_path_factory.mktemp("lab")
    course = home / "course"
    shutil.copytree(ROOT / "notebooks", course, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    env = dict(os.environ)
    for variable in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR",
                     "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[variable] = str(home / variable.lower())
    write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))

    port, token = free_port(), token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={course}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(home / "server.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; see {home / 'server.log'}")
                time.sleep(0.3)
        yield {"base": base, "token": token}
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Launch the system Chromium headless through Playwright."""
    executable = find_chromium()
    if executable is None:
        pytest.fail(INSTALL_HINT)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()


def wait_idle(page, timeout=60_000):
    """Wait until the status bar reports the kernel as Idle."""
    page.wait_for_function(
        "() => (document.querySelector('#jp-main-statusbar') || {}).textContent?.includes('Idle')",
        timeout=timeout,
    )


def wait_all_cells_run(page, timeout=120_000):
    """Wait until every code cell shows an execution count and none is still running."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        timeout=timeout,
    )


def error_outputs(page):
    """Return the text of every error or stderr output in the notebook."""
    selector = ('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], '
                '.jp-OutputArea-output .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')
    return [element.inner_text()[:500] for element in page.query_selector_all(selector)]


@pytest.mark.parametrize("notebook", sorted(SLIDERS))
def test_lecture_runs_and_slider_redraws(lab, browser, notebook):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = Path(notebook).stem
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    outside = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith((lab["base"], "data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    try:
        page.goto(f"{lab['base']}/lab/tree/{notebook}?reset&token={lab['token']}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        wait_idle(page)
        page.screenshot(path=SCREENSHOTS / f"{stem}-loaded.png")

        page.click('.lm-MenuBar-itemLabel:text-is("Run")')
        page.click('.lm-Menu-itemLabel:text-is("Run All Cells")')
        wait_all_cells_run(page)
        wait_idle(page)
        page.screenshot(path=SCREENSHOTS / f"{stem}-ran.png", full_page=True)
        assert error_outputs(page) == [], f"{notebook} shows errors after Run All"

        description = SLIDERS[notebook]
        slider = page.locator(".widget-slider", has=page.locator(f'.widget-label:text-is("{description}")')).first
        assert slider.count() == 1, f"no slider labelled {description!r} in {notebook}"
        interact = slider.locator("xpath=ancestor::div[contains(@class, 'widget-interact')][1]")
        image = interact.locator(".widget-output img").first
        image.wait_for(timeout=30_000)
        readout_before = slider.locator(".widget-readout").inner_text()
        image_before = image.get_attribute("src")

        slider.locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([el, before]) => el.textContent !== before",
            arg=[slider.locator(".widget-readout").element_handle(), readout_before],
            timeout=10_000,
        )
        page.wait_for_function(
            "([el, before]) => { const img = el.querySelector('.widget-output img'); return img && img.src !== before; }",
            arg=[interact.element_handle(), image_before],
            timeout=30_000,
        )
        wait_idle(page)
        page.wait_for_timeout(500)
        page.screenshot(path=SCREENSHOTS / f"{stem}-slider.png", full_page=True)

        assert slider.locator(".widget-readout").inner_text() != readout_before
        assert interact.locator(".widget-output img").first.get_attribute("src") != image_before
        assert error_outputs(page) == [], f"{notebook} shows errors after moving the {description} slider"
        assert outside == [], f"{notebook} tried to reach hosts outside this machine: {outside[:5]}"
    except Exception:
        page.screenshot(path=SCREENSHOTS / f"{stem}-failed.png", full_page=True)
        raise
    finally:
        page.close()
