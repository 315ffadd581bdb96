"""Figures of lecture 2. Each function draws the arrays it is given and returns the Figure.

Slider figures use plain-text labels, plain tick labels on log axes, no minor ticks on them and fixed
margins: mathtext parsing, minor ticks and tight_layout took most of a redraw's time (cProfile,
matplotlib 3.11).
"""

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from lib import function_spaces, kernels

# Resolution of the slider figures. Large PNGs in widget outputs sometimes make nbclient 0.11 wait for
# its full cell timeout (https://github.com/jupyter/nbclient/issues/312). Here 4 of 12 runs stalled
# with a 140 KB image and none with a 30 KB one. At 72 dpi these figures take 30-70 KB, not 50-140 KB.
SLIDER_DPI = 72
SCATTER_POINTS = 500


def _plain_log_ticks(axis, subs=(1.0,)):
    """Label a log axis with plain numbers (no mathtext) at subs x powers of 10, and drop its minor ticks."""
    axis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(matplotlib.ticker.NullLocator())


def draw_covariance_ellipse(ax, K, level=0.95, **style):
    """Draw the ellipse v^T K^-1 v = -2 log(1 - level) of a 2 x 2 covariance K, which contains `level` of N(0, K)."""
    radius = np.sqrt(-2 * np.log(1 - level))
    angle = np.linspace(0, 2 * np.pi, 200)
    eigenvalues, eigenvectors = np.linalg.eigh(K)
    circle = radius * np.vstack([np.cos(angle), np.sin(angle)])
    points = eigenvectors @ (np.sqrt(np.clip(eigenvalues, 0, None))[:, None] * circle)
    ax.plot(points[0], points[1], **style)


def _scatter_with_ellipse(ax, samples, K, title, labels):
    """Scatter 2-D samples beside the 95% ellipse of N(0, K) on one axis."""
    ax.scatter(samples[:, 0], samples[:, 1], s=2, color="C0", linewidths=0)
    draw_covariance_ellipse(ax, K, color="C3", lw=1.5, label="theory 95%")
    limit = 1.1 * max(np.max(np.abs(samples)), 2.6 * np.sqrt(np.max(np.diag(K))))
    ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xlabel=labels[0], ylabel=labels[1], title=title)
    ax.set_aspect("equal")
    ax.locator_params(nbins=5)


def plot_interpolation(result):
    """Draw the relu interpolant beside the target, and the sup error against the number of units with its bound."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=SLIDER_DPI)
    left.plot(result["grid"], result["target"], color="0.5", lw=2, label="target f")
    left.plot(result["grid"], result["network"], color="C0", label=f"relu network, N = {result['n_units']}")
    left.plot(result["knots"], result["values"], "o", color="C1", ms=4, label="interpolated points")
    left.set(xlabel="x", ylabel="y", title="N hidden units interpolate N + 1 points")
    left.legend(fontsize=8, loc="lower left")

    right.loglog(result["units"], result["sup_errors"], ".-", label="measured sup error")
    right.loglog(result["units"], result["bound"], "--", color="C3", label="bound h² max|f''| / 8, h = 1/N")
    index = result["n_units"] - 1
    right.loglog(result["units"][index], result["sup_errors"][index], "o", color="C1", ms=8)
    right.set(xlabel="hidden units N", ylabel="max |network - f|", title="the error falls like 1/N²")
    _plain_log_ticks(right.xaxis)
    _plain_log_ticks(right.yaxis)
    right.legend(fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
    return fig


def plot_linear_gp(samples, K, labels):
    """Draw outputs of random linear neurons at two inputs beside the 95% ellipse of sigma^2 X X^T."""
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    _scatter_with_ellipse(ax, samples, K, "linear neuron y = w · x", labels)
    ax.legend(fontsize=8, loc="upper left")
    fig.subplots_adjust(left=0.17, right=0.97, bottom=0.13, top=0.91)
    return fig


def plot_h_check(t_grid, estimates):
    """Draw h(t) and h'(t) beside their Monte Carlo estimates with 4 standard-error bars."""
    h_mean, h_se, slope_mean, slope_se = estimates
    t = np.linspace(-1, 1, 401)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot(t, kernels.h(t), label=r"$h(t) = (\sqrt{1-t^2} + t(\pi - \arccos t))/\pi$")
    left.plot(t, t, ":", color="0.6", label="$h(t) = t$ (identity)")
    left.errorbar(t_grid, h_mean, yerr=4 * h_se, fmt="o", ms=4, color="C1", label=r"Monte Carlo $\pm 4$ SE")
    left.set(xlabel="input correlation $t$", ylabel=r"$E[\phi(u)\phi(v)]$", title="arc-cosine map")
    left.legend(fontsize=8)

    right.plot(t, kernels.h_prime(t), label=r"$h'(t) = 1 - \arccos(t)/\pi$")
    right.errorbar(t_grid, slope_mean, yerr=4 * slope_se, fmt="o", ms=4, color="C1", label=r"Monte Carlo $\pm 4$ SE")
    right.set(xlabel="input correlation $t$", ylabel=r"$E[\phi'(u)\phi'(v)]$", title="its derivative: $h'(1) = 1$")
    right.legend(fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return fig


def plot_correlation_decay(depths, gaps, asymptote):
    """Draw 1 - rho_L against depth on log-log axes for several starting t, with the asymptote 9 pi^2 / (2 L^2)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for t, gap in gaps.items():
        ax.loglog(depths, gap, label=f"$t = {t}$")
    ax.loglog(depths, asymptote, "k--", label=r"$9\pi^2 / (2L^2)$")
    ax.minorticks_off()
    ax.set(xlabel="depth $L$", ylabel=r"$1 - h^{\circ(L-1)}(t)$", title="correlations approach 1 like $1/L^2$")
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.9)
    return fig


def plot_sampler_check(sampled, by_weights, width, kurtosis):
    """Draw histograms of f(x) from the exact sampler and from drawn weights beside the standard normal density."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    edges = np.linspace(-7, 7, 36)
    ax.hist(sampled, bins=edges, density=True, histtype="step", lw=1.5, label="conditional-Gaussian sampler")
    ax.hist(by_weights, bins=edges, density=True, histtype="step", lw=1.5, label="drawing weight matrices")
    ax.plot(edges, np.exp(-(edges**2) / 2) / np.sqrt(2 * np.pi), "k--", label="$N(0, 1)$")
    ax.set(yscale="log", xlabel="$f(x)$", ylabel="density",
           title=f"width {width}: excess kurtosis {kurtosis:.2f} in theory")
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.15, top=0.9)
    return fig


def plot_width_panel(panel, noise_levels=function_spaces.NOISE_LEVELS):
    """Draw f(x) against f(x') for the noisy copies with NNGP ellipses, and excess kurtosis against width.

    The scatters show the first SCATTER_POINTS networks; the coverages in the titles use all of them.
    """
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.5), dpi=SLIDER_DPI)
    samples, K = panel["samples"], panel["K"]
    for k, ax in enumerate(axes[:3], start=1):
        pair = [0, k]
        title = f"noise {noise_levels[k - 1]}: {panel['coverage'][k - 1]:.1%} inside"
        _scatter_with_ellipse(ax, samples[:SCATTER_POINTS, pair], K[np.ix_(pair, pair)], title, ("f(x)", f"f(x'), copy {k}"))
    axes[0].legend(fontsize=8, loc="upper left")

    ax = axes[3]
    widths = panel["widths"]
    ax.plot(widths, panel["kurtosis_theory"], color="C3", label="exact: 3((1 + 5/d)^(L-1) - 1)")
    ax.errorbar(widths, panel["kurtosis"], yerr=4 * panel["kurtosis_se"], fmt="o", ms=4, color="C0",
                label="sampled ± 4 SE")
    current = list(widths).index(panel["width"])
    ax.plot(widths[current], panel["kurtosis"][current], "o", ms=10, mfc="none", mec="k")
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths[::2], [str(width) for width in widths[::2]])
    ax.set_yscale("symlog", linthresh=0.1)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.minorticks_off()
    ax.set(xlabel="width d", ylabel="excess kurtosis of f(x)", title=f"depth {panel['depth']}, width {panel['width']}")
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.15, top=0.9, wspace=0.3)
    return fig


def plot_depth_panel(panel):
    """Draw the NNGP correlation against angle with network estimates, GP prior draws and network draws on a circle."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.7), dpi=SLIDER_DPI)
    left, middle, right = axes
    for kernel in panel["kernels_all"][::2]:
        left.plot(panel["angle"], kernel, color="0.85", lw=0.8)
    left.plot(panel["angle"], panel["kernel"], color="C3", lw=2, label="NNGP h composed L-1 times at cos Δθ")
    band = 4 * panel["correlation_se"]
    left.fill_between(panel["angle"], panel["correlation"] - band, panel["correlation"] + band, color="C0", alpha=0.3, lw=0)
    left.plot(panel["angle"], panel["correlation"], "o", ms=3, color="C0", label=f"width {panel['width']} networks ± 4 SE")
    left.set(xlabel="angle Δθ between inputs", ylabel="correlation", ylim=(-0.05, 1.05), title=f"depth L = {panel['depth']}")
    left.legend(fontsize=8, loc="lower left")

    drawn = slice(0, 3)
    middle.plot(panel["theta"], panel["gp_draws"][:, drawn])
    middle.set(xlabel="input angle θ", ylabel="f(x(θ))", title="draws from the NNGP prior")
    right.plot(panel["theta"], panel["network_draws"][:, drawn])
    right.set(xlabel="input angle θ", ylabel="f(x(θ))", title=f"random networks of width {panel['width']}")
    limit = 1.05 * max(np.max(np.abs(panel["gp_draws"][:, drawn])), np.max(np.abs(panel["network_draws"][:, drawn])), 1)
    for ax in (middle, right):
        ax.set_ylim(-limit, limit)
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.15, top=0.9, wspace=0.2)
    return fig


def plot_digit_regression(depths, evidence, accuracy, widths, differences, width_accuracy, nngp_accuracy):
    """Draw evidence and accuracy against depth, and the finite network's distance to the NNGP posterior against width."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    left.plot(depths, evidence, "o-", color="C0")
    left.set(xlabel="depth $L$", ylabel="log marginal likelihood", title="NNGP regression on digits")
    twin = left.twinx()
    twin.plot(depths, accuracy, "s--", color="C1")
    twin.set_ylabel("test accuracy", color="C1")

    right.loglog(widths, differences, "o-", label="relative distance to the NNGP posterior mean")
    right.loglog(widths, differences[0] * np.sqrt(widths[0] / np.asarray(widths)), "k:", label=r"$\propto 1/\sqrt{d}$")
    right.plot([], [], " ", label=f"test accuracy: widest network {width_accuracy[-1]:.1%}, NNGP {nngp_accuracy:.1%}")
    right.set(xlabel="width $d$ of the random network", ylabel="relative distance", title="finite networks approach the NNGP")
    _plain_log_ticks(right.xaxis, subs=(1.0, 2.0, 5.0))
    _plain_log_ticks(right.yaxis, subs=(1.0, 2.0, 5.0))
    right.legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.35)
    return fig
