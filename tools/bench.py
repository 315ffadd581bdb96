"""Time the course and write docs/benchmarks.md.

Measures: each notebook executed top to bottom in a fresh kernel, each registered slider's
redraw (the same compute_* and plot_* calls its interact callback makes, rendered to PNG
as the inline backend does), and the setup time. Run it through `make bench`.

Usage: python tools/bench.py [--skip-setup] [--only NAME ...]
"""

import argparse
import datetime
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import jupyter_client
import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"
SLIDER_REPEATS = 20


def render_png(fig):
    """Render a figure to PNG bytes as the inline backend does, then close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


# Slider benchmarks. Each function returns (redraw, values): redraw(value) makes the same
# calls as the notebook's interact callback at that slider value, and values has
# SLIDER_REPEATS entries spread over the slider's range.


def slider_alpha():
    """Lecture 1: the alpha slider of the variance-propagation figure (balanced rows on)."""
    from lib import plotting, propagation

    setup = propagation.draw_propagation_setup(np.random.default_rng(11), depth=30, width=256, n=256)

    def redraw(alpha):
        profile = propagation.compute_variance_profile(setup, alpha, balanced=True)
        return render_png(plotting.plot_variance_profile(profile))

    return redraw, np.linspace(0.8, 2.2, SLIDER_REPEATS)


def slider_eta_depth():
    """Lecture 1: the eta slider of the deep perturbation figure (L = 40, the largest depth)."""
    from lib import perturbation, plotting

    setup = perturbation.draw_perturbation_setup(np.random.default_rng(15), max_depth=40, width=64, n=32)

    def redraw(eta):
        profile = perturbation.compute_perturbation_profile(setup, eta, 40)
        return render_png(plotting.plot_perturbation_profile(profile))

    return redraw, np.logspace(-3, 0, SLIDER_REPEATS)


def slider_cover_d():
    """Lecture 4: the d slider of the Cover ratio figure."""
    from lib import learning_theory, learning_theory_plots

    widths = learning_theory.compute_transition_widths(100)

    def redraw(d):
        view = learning_theory.compute_cover_view(int(d), widths)
        return render_png(learning_theory_plots.plot_cover_ratio(view))

    return redraw, np.linspace(1, 100, SLIDER_REPEATS).round().astype(int)


def _randomisation_redraw():
    """Lecture 4: the randomisation table (built once, as in the notebook) and its redraw."""
    from lib import learning_theory, learning_theory_plots

    table = learning_theory.digits_randomisation_table(np.random.default_rng(4), n_train=500)

    def redraw(features, noise):
        view = learning_theory.compute_randomisation_view(table, features, noise)
        return render_png(learning_theory_plots.plot_randomisation(view))

    return table, redraw


def slider_randomisation_features():
    """Lecture 4: the features slider of the randomisation test (noise 0.3)."""
    table, redraw = _randomisation_redraw()
    return (lambda features: redraw(features, 0.3)), np.resize(table["feature_counts"], SLIDER_REPEATS)


def slider_randomisation_noise():
    """Lecture 4: the noise slider of the randomisation test (2000 features)."""
    _, redraw = _randomisation_redraw()
    return (lambda noise: redraw(2000, noise)), np.round(np.linspace(0, 1, SLIDER_REPEATS), 1)


def slider_eta_quadratic():
    """Lecture 3: the eta slider of gradient descent on the 2-D quadratic (kappa = 10), across the log-scale range."""
    from lib import optimisation_plots, quadratic

    def redraw(eta):
        return render_png(optimisation_plots.plot_quadratic_descent(quadratic.compute_quadratic_descent(eta, 10.0)))

    return redraw, 10 ** np.linspace(-2, 0.6, SLIDER_REPEATS)


def _training_redraw(optimiser):
    """Lecture 3: the cached grid of training runs (built once, as in the notebook) and the redraw for one optimiser."""
    from lib import mlp, optimisation_plots, training

    rng = np.random.default_rng(3)
    X, Y = training.load_digits_problem(200, rng)
    W0 = mlp.init_weights([64] + [32] * 9 + [10], rng)
    etas = 10.0 ** np.arange(-3, 0.01, 0.5)
    grid = training.train_grid(W0, X, Y, [optimiser], etas, 60)

    def redraw(eta):
        return render_png(optimisation_plots.plot_training_view(training.compute_training_view(grid, optimiser, eta)))

    return redraw, np.resize(etas, SLIDER_REPEATS)


def slider_eta_training_sgd():
    """Lecture 3: the eta slider of the depth-10 network with the optimiser dropdown on SGD."""
    return _training_redraw("SGD")


def slider_eta_training_nero():
    """Lecture 3: the eta slider of the depth-10 network with the optimiser dropdown on Nero."""
    return _training_redraw("Nero")


def slider_pac_bayes_kl():
    """Lecture 5: the KL slider of the PAC-Bayes bounds figure (m = 1000, emp_error = 0.05)."""
    from lib import bounds, pac_bayes_plots

    def redraw(kl):
        return render_png(pac_bayes_plots.plot_bound_curves(bounds.compute_bound_curves(kl, 1000, 0.05)))

    return redraw, np.linspace(0.0, 200.0, SLIDER_REPEATS)


def slider_pac_bayes_sigma():
    """Lecture 5: the sigma slider of the linear classifier's trade-off figure on digits 3 against 8 (scale = 1)."""
    from lib import pac_bayes, pac_bayes_plots

    setup = pac_bayes.split_digits((3, 8), 250, np.random.default_rng(4))
    setup["w"] = pac_bayes.train_linear(setup["X_train"], setup["y_train"], n_steps=300, eta=0.1)

    def redraw(sigma):
        return render_png(pac_bayes_plots.plot_linear_tradeoff(pac_bayes.compute_linear_tradeoff(setup, 1.0, sigma)))

    return redraw, np.geomspace(0.01, 3.0, SLIDER_REPEATS)


def slider_width():
    """Lecture 2: the width slider of the random-network scatter (networks sampled once, as in the notebook)."""
    from lib import function_space_plots, function_spaces

    rng = np.random.default_rng(9)
    X = function_spaces.digit_with_noisy_copies(rng)
    study = function_spaces.compute_width_study(X, depth=3, n_networks=1000, n_networks_kurtosis=8000, rng=rng)

    def redraw(width):
        return render_png(function_space_plots.plot_width_panel(function_spaces.compute_width_panel(study, width)))

    widths = function_spaces.WIDTH_GRID
    return redraw, [widths[k % len(widths)] for k in range(SLIDER_REPEATS)]


def slider_ntk_width():
    """Lecture 6: the width slider of the empirical NTK against the recursion (networks drawn once, as in the notebook)."""
    from lib import ntk, project_plots

    study = ntk.compute_ntk_width_study(L=3, n_networks=8, rng=np.random.default_rng(2))

    def redraw(width):
        return render_png(project_plots.plot_ntk_width_panel(ntk.compute_ntk_width_panel(study, width)))

    widths = ntk.WIDTH_GRID
    return redraw, [widths[k % len(widths)] for k in range(SLIDER_REPEATS)]


def slider_adversarial_eps():
    """Lecture 6: the eps slider of the sign attack on digits 3 against 8 (classifier trained once, as in the notebook)."""
    from lib import adversarial, project_plots

    study = adversarial.compute_adversarial_study((3, 8), n_train=200, eps_grid=np.linspace(0, 0.3, 31),
                                                  rng=np.random.default_rng(6))

    def redraw(eps):
        return render_png(project_plots.plot_adversarial_view(adversarial.compute_adversarial_view(study, eps)))

    return redraw, np.linspace(0.0, 0.3, SLIDER_REPEATS)


def section_nngp_sampler():
    """Time lecture 2's exact sampler against drawing weights at the original homework's size.

    1000 networks of widths [3072, 1000, 1000, 1] on a 32x32x3 image and 3 noisy copies. The
    reference is extrapolated from a subset of networks when all of them would take over a minute.
    """
    from lib import function_spaces, sampling

    n_networks, widths, subset = 1000, [3072, 1000, 1000, 1], 50
    X = function_spaces.image_with_noisy_copies(np.random.default_rng(0))

    durations = []
    for seed in range(3):
        start = time.perf_counter()
        sampling.sample_outputs(X, widths, n_networks, np.random.default_rng(seed))
        durations.append(time.perf_counter() - start)
    sampler = statistics.median(durations)

    start = time.perf_counter()
    sampling.sample_outputs_by_weights(X, widths, subset, np.random.default_rng(3))
    subset_seconds = time.perf_counter() - start
    if subset_seconds * n_networks / subset > 60:
        reference = subset_seconds * n_networks / subset
        how = f"extrapolated from {subset} networks ({subset_seconds:.1f} s), since all {n_networks} would take over a minute"
    else:
        start = time.perf_counter()
        sampling.sample_outputs_by_weights(X, widths, n_networks - subset, np.random.default_rng(4))
        reference = subset_seconds + time.perf_counter() - start
        how = f"measured on all {n_networks} networks"

    print(f"NNGP sampler, {n_networks} networks of widths {widths} on 4 inputs: {sampler:.3f} s (median of 3); "
          f"drawing weights {reference:.1f} s ({how}); speed-up {reference / sampler:.0f}x", flush=True)
    return [
        "## Lecture 2: exact NNGP sampler at the original homework's size",
        "",
        f"{n_networks} random relu networks of widths {widths} on 4 inputs (a 32x32x3 image and 3 noisy copies).",
        "",
        f"- Conditional-Gaussian sampler (`sampling.sample_outputs`): {sampler:.3f} s, median of 3 runs.",
        f"- Drawing weight matrices (`sampling.sample_outputs_by_weights`): {reference:.1f} s, {how}.",
        f"- Speed-up: {reference / sampler:.0f}x.",
    ]


SLIDERS = {
    "lecture 1, alpha": slider_alpha,
    "lecture 1, eta and L": slider_eta_depth,
    "lecture 2, width": slider_width,
    "lecture 3, eta (quadratic)": slider_eta_quadratic,
    "lecture 3, eta (training, SGD)": slider_eta_training_sgd,
    "lecture 3, eta (training, Nero)": slider_eta_training_nero,
    "lecture 4, d": slider_cover_d,
    "lecture 4, features": slider_randomisation_features,
    "lecture 4, noise": slider_randomisation_noise,
    "lecture 5, KL": slider_pac_bayes_kl,
    "lecture 5, sigma": slider_pac_bayes_sigma,
    "lecture 6, width": slider_ntk_width,
    "lecture 6, eps": slider_adversarial_eps,
}


def section_jupyterhub():
    """The course's JupyterHub: hub and user-server start-up, memory per student, grading time (tools/hub_bench.py; needs root)."""
    import hub_bench

    return hub_bench.measure()


def section_homework_grading():
    """Homework 1: one submission through `python -m grader grade`, and 20 graded one after another against in parallel."""
    from grader import benchmark

    return benchmark.measure("hw1", count=20)


# Further measurements (samplers, grading, ...). Each function prints its results and
# returns the markdown lines of its own section, heading included.
def section_homework2_grading():
    """Homework 2: one submission through `python -m grader grade`, and a batch of 10 one after another against in parallel."""
    from grader import benchmark

    return benchmark.measure("hw2", count=10)


SECTIONS = [section_nngp_sampler, section_jupyterhub, section_homework_grading, section_homework2_grading]


def notebooks():
    """Return the notebooks that make bench executes, lectures first, then homework sources."""
    lectures = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    homework = sorted((ROOT / "homework" / "source").glob("*/*.ipynb"))
    return lectures + homework


def time_notebook(path, cell_timeout=120):
    """Return the seconds taken to execute ``path`` top to bottom in a fresh kernel, kernel start excluded.

    Cells run through jupyter_client directly, as nbval does: nbclient 0.11 sometimes waits out
    its whole timeout after an interact output (jupyter/nbclient#312), which would be timed.
    """
    notebook = nbformat.read(path, as_version=4)
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3", cwd=str(path.parent))
    try:
        start = time.perf_counter()
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            reply = client.execute_interactive(cell.source, timeout=cell_timeout, output_hook=lambda message: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"{path.name}: cell {index} failed: {reply['content'].get('ename')}")
        return time.perf_counter() - start
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def time_slider(build):
    """Return (median, 95th percentile) redraw time in seconds over the slider's values."""
    redraw, values = build()
    redraw(values[0])
    durations = []
    for value in values:
        start = time.perf_counter()
        redraw(value)
        durations.append(time.perf_counter() - start)
    return statistics.median(durations), float(np.percentile(durations, 95))


def time_setup():
    """Return seconds for a fresh virtual environment from requirements.txt (pip cache warm) and for a no-op make setup."""
    with tempfile.TemporaryDirectory() as folder:
        venv = Path(folder) / "venv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run(pip + ["-r", "requirements.txt", "-c", "constraints.txt"], check=True, cwd=ROOT)
        subprocess.run(pip + ["--no-deps", "-e", "."], check=True, cwd=ROOT, capture_output=True)
        fresh = time.perf_counter() - start

    start = time.perf_counter()
    subprocess.run(["make", "--no-print-directory", "setup"], check=True, cwd=ROOT, capture_output=True)
    noop = time.perf_counter() - start
    return fresh, noop


def machine_description():
    """Return a one-line description of the CPU, core count and memory."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}"


def write_report(rows_notebooks, rows_sliders, sections, setup, load):
    """Write docs/benchmarks.md from the measured rows."""
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (tools/bench.py) on {datetime.date.today().isoformat()}.",
        f"Machine: {machine_description()}; load average {load:.1f} when the run started.",
        "",
        "## Notebooks, top to bottom in a fresh kernel",
        "",
        "| notebook | seconds |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {seconds:.1f} |" for name, seconds in rows_notebooks]
    lines.append(f"| whole course (all of the above) | {sum(seconds for _, seconds in rows_notebooks):.1f} |")
    lines += [
        "",
        f"## Slider redraws (compute and plot to PNG, {SLIDER_REPEATS} values across the range)",
        "",
        "| slider | median ms | 95th percentile ms |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {median * 1e3:.0f} | {p95 * 1e3:.0f} |" for name, median, p95 in rows_sliders]
    for section in sections:
        lines += [""] + section
    if setup is not None:
        fresh, noop = setup
        lines += [
            "",
            "## Setup",
            "",
            f"- Fresh virtual environment from requirements.txt with pip's cache warm: {fresh:.0f} s.",
            f"- `make setup` when everything is installed: {noop * 1e3:.0f} ms.",
        ]
    REPORT.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-setup", action="store_true", help="do not time a fresh environment (saves about a minute)")
    args = parser.parse_args()
    load = os.getloadavg()[0]

    rows_notebooks = []
    for path in notebooks():
        seconds = time_notebook(path)
        rows_notebooks.append((path.relative_to(ROOT).as_posix(), seconds))
        print(f"{path.relative_to(ROOT)}: {seconds:.1f} s", flush=True)

    rows_sliders = []
    for name, build in SLIDERS.items():
        median, p95 = time_slider(build)
        rows_sliders.append((name, median, p95))
        print(f"slider {name}: median {median * 1e3:.0f} ms, 95th percentile {p95 * 1e3:.0f} ms", flush=True)

    sections = [measure() for measure in SECTIONS]

    setup = None if args.skip_setup else time_setup()
    if setup is not None:
        print(f"setup: fresh {setup[0]:.0f} s, no-op {setup[1]:.2f} s")

    write_report(rows_notebooks, rows_sliders, sections, setup, load)
    print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
