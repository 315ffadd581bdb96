"""Figures of lecture 3. Each function draws the arrays it is given and returns the Figure."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

# Slider figures must redraw in under 100 ms. Typesetting mathtext dominates a redraw, so their
# labels use plain Unicode text, log axes get plain "1e-05" tick labels, and a fixed layout
# replaces tight_layout.
DPI = 80


def _figure(ncols, width, height=3.4, **adjust):
    """Return (fig, axes) with a fixed layout; ``adjust`` overrides the subplots_adjust margins."""
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), dpi=DPI)
    margins = {"left": 0.6 / width * ncols ** 0.5, "right": 0.97, "bottom": 0.16, "top": 0.88, "wspace": 0.35}
    margins.update(adjust)
    fig.subplots_adjust(**margins)
    return fig, axes


def _few_ticks(ax, log_x=False, log_y=False):
    """Keep at most about five labelled ticks per axis, drop minor ticks and fix the title's height.

    A title with an explicit y is not repositioned at every draw, which saves a bounding-box pass.
    """
    ax.set_title(ax.get_title(), y=1.01)
    for axis, is_log in ((ax.xaxis, log_x), (ax.yaxis, log_y)):
        if is_log:
            axis.set_major_locator(LogLocator(numticks=4))
            axis.set_major_formatter(FuncFormatter(lambda value, position: f"{value:.0e}"))
        else:
            axis.set_major_locator(MaxNLocator(3))
        axis.set_minor_locator(NullLocator())


def plot_first_steps(g, steps, eta):
    """Draw each rule's first update against the gradient, beside the sign update -eta sign(g)."""
    fig, ax = _figure(1, 5.5, left=0.16)
    for k, (name, step) in enumerate(steps.items()):
        ax.plot(g, step, lw=2.5 - 0.5 * k, label=name)
    ax.plot(g, -eta * np.sign(g), "k:", label=r"$-\eta\,\mathrm{sign}(g)$")
    ax.set(xlabel="gradient $g$", ylabel=r"first update $\Delta w$", title=rf"first steps, $\eta$ = {eta:g}")
    ax.set_ylim(-4 * eta, 4 * eta)
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_descent_lemma(result):
    """Draw the measured loss decrease after one step against eta, beside the decrease the descent lemma guarantees."""
    L = result["smoothness"]
    fig, ax = _figure(1, 5.5, left=0.14)
    ax.plot(result["etas"], result["actual"], "o", ms=3, label=r"measured $f(x) - f(x - \eta g)$")
    ax.plot(result["etas"], result["guaranteed"], "-", label=r"guaranteed $\eta(1 - L\eta/2)\|g\|^2$")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(1 / L, color="C2", ls=":", label=r"$\eta = 1/L$")
    ax.axvline(2 / L, color="C3", ls=":", label=r"$\eta = 2/L$")
    ax.set(xlabel=r"$\eta$", ylabel="decrease of the loss", title="descent lemma on a quadratic")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def plot_quadratic_descent(result):
    """Draw gradient descent's path on the contours, and its loss against the closed form and against the loss at eta = 2 / lambda_max."""
    fig, (path_ax, loss_ax) = _figure(2, 9, left=0.05, wspace=0.15)
    x1, x2, values = result["grid"]
    extent = result["extent"]
    path_ax.contour(x1, x2, values, levels=10, colors="0.7", linewidths=0.8)
    path_ax.plot(result["path"][:, 0], result["path"][:, 1], "o-", color="C0", ms=3, lw=1)
    path_ax.set(xlim=(-extent, extent), ylim=(-extent, extent), aspect="equal", xticks=[], yticks=[],
                xlabel="x₁", ylabel="x₂", title=f"η = {result['eta']:.3g}, κ = {result['kappa']:.3g}")
    path_ax.set_title(path_ax.get_title(), y=1.01)

    steps = np.arange(len(result["losses"]))
    verdict = "diverges" if result["factor"] > 1 else "converges"
    loss_ax.semilogy(steps, result["losses"], "o", ms=3, label="measured")
    loss_ax.semilogy(steps, result["predicted"], "-", label="theory, per eigen-direction")
    loss_ax.semilogy(steps, result["boundary_losses"], "--", color="C3", label=f"at the boundary η = 2/λ_max = {result['eta_critical']:.3g}")
    loss_ax.set(xlabel="step t", ylabel="f(x_t)", title=f"max |1 - ηλ_i| = {result['factor']:.3g}: {verdict}")
    loss_ax.legend(loc="lower left", fontsize=8)
    _few_ticks(loss_ax, log_y=True)
    return fig


def plot_contraction_factors(etas, factors, eta_critical):
    """Draw max_i |1 - eta lambda_i| against eta for several condition numbers, with the boundary 2 / lambda_max."""
    fig, ax = _figure(1, 5.5, left=0.14)
    for kappa, factor in factors.items():
        ax.plot(etas, factor, label=f"κ = {kappa:g}")
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.axvline(eta_critical, color="C3", ls=":", label=f"2/λ_max = {eta_critical:g}")
    ax.set(xscale="log", yscale="log", xlabel="η", ylabel="max_i |1 - ηλ_i|", title="per-step factor of the slowest direction")
    ax.legend(loc="upper left", fontsize=8)
    _few_ticks(ax, log_x=True, log_y=True)
    return fig


def plot_smoothness_scaling(result):
    """Draw the secant smoothness estimate against the product of layer norms, beside the c^(2L-2) law for zero targets."""
    depth = result["depth"]
    fig, ax = _figure(1, 5.5, left=0.16)
    ax.loglog(result["norm_products"], result["slopes"], "o", label="measured, one-hot targets")
    ax.loglog(result["norm_products"], result["slopes_zero_target"], "s", mfc="none", label="measured, zero targets")
    ax.loglog(result["norm_products"], result["predicted_zero_target"], "-",
              label=rf"theory $\propto c^{{{2 * depth - 2}}}$ (zero targets)")
    ax.set(xlabel=r"$\prod_l \|W_l\|_F$", ylabel=r"$\|\nabla L(W+\Delta W) - \nabla L(W)\| / \|\Delta W\|$",
           title=f"local smoothness, depth {depth}")
    ax.legend(loc="upper left", fontsize=8)
    _few_ticks(ax, log_x=True, log_y=True)
    return fig


def plot_relative_trust(result):
    """Draw the measured relative gradient change against eta, beside deep relative trust (1 + eta)^L - 1."""
    fig, ax = _figure(1, 5.5, left=0.18)
    etas = result["etas"]
    ax.loglog(etas, result["random"], "o", label="measured, random direction")
    ax.loglog(etas, result["gradient"], "^", label="measured, gradient direction")
    ax.loglog(etas, result["deep_relative_trust"], "-", label=r"deep relative trust $(1+\eta)^L - 1$")
    ax.loglog(etas, result["linear"], ":", label=r"first order $L\eta$")
    ax.set(xlabel=r"relative size $\eta$ of the change in every layer",
           ylabel="largest relative change\nof a layer's gradient", title=f"depth L = {result['depth']}")
    ax.legend(loc="upper left", fontsize=8)
    _few_ticks(ax, log_x=True, log_y=True)
    return fig


def plot_relative_updates(sizes, eta):
    """Draw each optimiser's relative update size ||dW_l|| / ||W_l|| against layer, with the target eta."""
    fig, ax = _figure(1, 7, left=0.12, right=0.8)
    for name, size in sizes.items():
        ax.semilogy(np.arange(1, len(size) + 1), size, "o-", ms=4, label=name)
    ax.axhline(eta, color="k", ls=":", label=r"$\eta$")
    depth = len(next(iter(sizes.values())))
    ax.set(xlabel="layer $l$", ylabel=r"$\|\Delta W_l\|_F / \|W_l\|_F$", xticks=range(1, depth + 1),
           title=rf"one step from the same network, $\eta$ = {eta:g}")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    return fig


def plot_learning_rate_sweep(grid, names):
    """Draw the final training loss against eta for each optimiser, with a cross where a run diverged."""
    fig, ax = _figure(1, 5.5, left=0.14)
    etas = grid["etas"]
    for k, name in enumerate(names):
        runs = [grid["runs"][name, i] for i in range(len(etas))]
        final = np.array([np.nan if run["diverged"] else run["losses"][-1] for run in runs])
        diverged = np.array([run["diverged"] for run in runs])
        ax.loglog(etas, final, "o-", color=f"C{k}", label=name)
        ax.plot(etas[diverged], np.full(diverged.sum(), runs[0]["losses"][0]), "x", color=f"C{k}", ms=9, mew=2)
    ax.set(xlabel=r"$\eta$", ylabel="final training loss", title="x: diverged (drawn at the starting loss)")
    ax.legend(loc="lower left", fontsize=8)
    _few_ticks(ax, log_x=True, log_y=True)
    return fig


def _line_collection(ax, curves, colours, **style):
    """Add one LineCollection holding every row of ``curves`` (against its index); cheaper to draw than many lines."""
    steps = np.arange(curves.shape[1])
    segments = [np.column_stack([steps, curve]) for curve in curves]
    ax.add_collection(LineCollection(segments, colors=colours, **style))


def plot_training_view(view):
    """Draw one optimiser's loss curves over the eta grid (the chosen eta bold) and its per-layer relative update sizes."""
    fig, (loss_ax, update_ax) = _figure(2, 11, left=0.07, wspace=0.25)
    n_steps = len(view["losses"]) - 1
    loss_ax.set_yscale("log")
    _line_collection(loss_ax, view["all_losses"], "0.8", linewidths=1)
    loss_ax.plot(view["losses"], color="C0", lw=2)
    status = "diverged" if view["diverged"] else f"final loss {view['losses'][-1]:.3g}"
    loss_ax.set(xlim=(0, n_steps), xlabel="step", ylabel="training loss (grey: other η)",
                title=f"{view['optimiser']}, η = {view['eta']:.3g}: {status}")
    _few_ticks(loss_ax, log_y=True)

    updates = view["relative_updates"].T
    update_ax.set_yscale("log")
    _line_collection(update_ax, updates, plt.cm.viridis(np.linspace(0, 0.9, len(updates))), linewidths=1)
    update_ax.axhline(view["eta"], color="k", ls=":")
    # At least two decades either side of eta, so that a flat curve looks flat. Layers whose
    # gradient vanished (all units dead) have update 0, which a log axis cannot show.
    shown = updates[np.isfinite(updates) & (updates > 0)]
    low = min(shown.min(initial=np.inf), view["eta"] / 100)
    high = max(shown.max(initial=0.0), view["eta"] * 100)
    update_ax.set(xlim=(0, n_steps), ylim=(low / 1.5, high * 1.5), xlabel=f"step (purple: layer 1, yellow: layer {len(updates)})",
                  ylabel="‖ΔW_l‖ / ‖W_l‖", title="relative update per layer (dotted: η)")
    _few_ticks(update_ax, log_y=True)
    return fig
