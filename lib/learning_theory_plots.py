"""Figures for the statistical learning theory lecture; each function draws and returns a Figure."""

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

POSITIVE, NEGATIVE = "tab:blue", "tab:orange"


def _plain_log_ticks(axis, ticks):
    """Label a log axis at ``ticks`` in plain numbers, without minor ticks.

    Slider figures use this because the default log tick labels go through mathtext, which is slow to lay out.
    """
    axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    axis.set_minor_locator(matplotlib.ticker.NullLocator())


def plot_dichotomies(X, patterns, weights, columns=4):
    """Draw each separable dichotomy of 2-D points X with its separating line through the origin and normal w."""
    X = np.asarray(X)
    count = len(patterns)
    rows = int(np.ceil(count / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 2.3 * rows), squeeze=False)
    limit = 1.25 * np.abs(X).max()

    for ax, labels, w in zip(axes.flat, patterns, weights):
        direction = np.array([-w[1], w[0]]) / np.linalg.norm(w)
        ax.plot(*np.outer([-2 * limit, 2 * limit], direction).T, color="0.4", lw=1)
        ax.arrow(0, 0, *(0.5 * limit * w / np.linalg.norm(w)), width=0.01 * limit, color="0.4")
        colors = np.where(labels > 0, POSITIVE, NEGATIVE)
        ax.scatter(X[:, 0], X[:, 1], c=colors, s=40, zorder=3, edgecolor="k", linewidth=0.5)
        ax.set_title("".join("+" if label > 0 else "-" for label in labels), fontsize=9, family="monospace")
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), xticks=[], yticks=[], aspect="equal")
    for ax in axes.flat[count:]:
        ax.axis("off")

    fig.suptitle(f"{count} of {2 ** X.shape[0]} dichotomies are separable by a line through the origin "
                 "(blue +1, orange -1, arrow w)")
    fig.tight_layout()
    return fig


def plot_cover_check(N_values, d_values, enumerated, formula, degenerate=None):
    """Draw enumerated separable dichotomies (markers) against Cover's C(N, d) (lines), with 2^N for reference.

    ``enumerated`` and ``formula`` have shape (len(N_values), len(d_values)). The optional ``degenerate``
    is a tuple (N, enumerated count, C(N, d), d) for a point set not in general position.
    """
    fig, ax = plt.subplots(figsize=(6.5, 4))
    N_values = np.asarray(N_values)

    ax.plot(N_values, 2.0 ** N_values, color="0.6", ls=":", label="$2^N$ (all dichotomies)")
    for k, d in enumerate(d_values):
        line, = ax.plot(N_values, formula[:, k], lw=1.5, label=f"C(N, {d})")
        ax.plot(N_values, enumerated[:, k], "o", mfc="none", color=line.get_color())
    if degenerate is not None:
        N, count, expected, d = degenerate
        ax.plot([N], [count], "kx", ms=10, mew=2, label=f"degenerate set, d = {d}: {count} < {expected}")

    ax.set(yscale="log", xlabel="number of points N", ylabel="separable dichotomies",
           title="Enumeration (circles) against Cover's count (lines)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_cover_ratio(view):
    """Draw the d slider's figure: C(N, d) / 2^N against N/d with its normal approximation, and the transition width.

    Titles name the curves in place of legends, because legends are slow to lay out.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    d = view["d"]

    left.plot(view["N_smooth"] / d, view["ratio_normal"], color="0.5", lw=1.5)
    left.plot(view["N"] / d, view["ratio"], "o", ms=3, color="tab:blue")
    left.axvline(2, color="k", lw=0.8, ls="--")
    left.axhline(0.5, color="k", lw=0.5, ls=":")
    left.set(xlim=(0, 4), ylim=(-0.03, 1.03), xlabel="N / d", ylabel="C(N, d) / 2^N",
             title=f"d = {d}: exact (dots), Φ((2d − N) / √(N − 1)) (grey)")

    right.loglog(view["d_values"], view["widths_normal"], color="0.5")
    right.loglog(view["d_values"], view["widths"], ".", color="tab:blue")
    right.loglog([d], [view["widths"][d - 1]], "o", ms=9, mfc="none", color="tab:red")
    _plain_log_ticks(right.xaxis, [1, 3, 10, 30, 100])
    _plain_log_ticks(right.yaxis, [0.5, 1, 2, 3])
    right.set(xlabel="d", ylabel="width in N/d from 0.9 to 0.1",
              title="width: exact (dots), 2 z(0.9) √(2 / d) (grey)")

    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.91, wspace=0.25)
    return fig


def plot_growth(N_values, d, growth, sauer, polynomial):
    """Draw the growth function C(N, d) of homogeneous half-spaces against the Sauer-Shelah bound, (eN/d)^d and 2^N."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    N_values = np.asarray(N_values)

    ax.plot(N_values, 2.0 ** N_values, color="0.6", ls=":", label="$2^N$")
    ax.plot(N_values, polynomial, color="tab:green", ls="--", label=r"$(eN/d)^d$, for $N \geq d$")
    ax.plot(N_values, sauer, color="tab:orange", lw=2, label=r"Sauer-Shelah $\sum_{k \leq d} \binom{N}{k}$")
    ax.plot(N_values, growth, "o", ms=3, color="tab:blue", label="growth function C(N, d)")
    ax.axvline(d, color="k", lw=0.8, ls="--")
    ax.set(yscale="log", xlabel="N", ylabel="number of dichotomies",
           title=f"Half-spaces through the origin in $R^{{{d}}}$: VC dimension {d}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_vc_gaps(N_values, gaps_by_dimension, n_train, delta):
    """Draw VC bound gaps against the sample size N, one panel per VC dimension, with the vacuous region (gap >= 1) shaded."""
    fig, axes = plt.subplots(1, len(gaps_by_dimension), figsize=(5 * len(gaps_by_dimension), 3.8), squeeze=False)

    for ax, (d_vc, gaps) in zip(axes.flat, gaps_by_dimension.items()):
        for name, values in gaps.items():
            ax.loglog(N_values, values, label=name)
        ax.axhspan(1, 1e3, color="0.9")
        ax.axvline(n_train, color="k", lw=0.8, ls="--")
        ax.text(n_train * 1.1, 30, f"N = {n_train}", fontsize=8)
        ax.set(ylim=(1e-2, 1e2), xlabel="training set size N", ylabel="gap: test error - training error <=",
               title=f"VC dimension {d_vc}, delta = {delta:g} (grey: vacuous)")
        ax.legend(fontsize=7, loc="lower left")

    fig.tight_layout()
    return fig


def plot_randomisation(view):
    """Draw train and test accuracy against the number of features (at this noise) and against noise (at these features).

    One legend serves both panels, to keep the redraw fast.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.4))
    n_train, chance = view["n_train"], 1 / 10

    left.semilogx(view["feature_counts"], view["train_by_features"], "o-", ms=3, label="train (noisy labels)")
    left.semilogx(view["feature_counts"], view["test_by_features"], "s-", ms=3, label="test (true labels)")
    if "kernel_test" in view:
        left.axhline(view["kernel_test"], color="tab:orange", ls="--", lw=1, label="test, kernel limit")
    left.axvline(n_train, color="k", lw=0.8, ls="--")
    left.text(n_train * 1.08, 0.03, "features = n", fontsize=8)
    left.axvline(view["features"], color="tab:red", lw=2, alpha=0.4)
    left.axhline(chance, color="0.5", lw=0.8, ls=":")
    _plain_log_ticks(left.xaxis, [10, 30, 100, 300, 1000, 3000])
    left.set(ylim=(0, 1.02), xlabel="features", ylabel="accuracy", title=f"noise = {view['noise']:.1f}")
    left.legend(fontsize=8, loc="lower left")

    right.plot(view["noise_levels"], view["train_by_noise"], "o-", ms=3)
    right.plot(view["noise_levels"], view["test_by_noise"], "s-", ms=3)
    if "kernel_test_by_noise" in view:
        right.plot(view["noise_levels"], view["kernel_test_by_noise"], "--", color="tab:orange", lw=1)
    right.axvline(view["noise"], color="tab:red", lw=2, alpha=0.4)
    right.axhline(chance, color="0.5", lw=0.8, ls=":")
    right.set(ylim=(0, 1.02), xlabel="label-noise fraction", ylabel="accuracy",
              title=f"features = {view['features']} (n = {n_train} training points)")

    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.91, wspace=0.22)
    return fig


def plot_two_layer_fit(z, y, z_grid, c_grid, residuals):
    """Draw the two-layer interpolant c along the projection a.x over the window z_grid, and the residuals at all points."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.6))
    inside = (z >= z_grid.min()) & (z <= z_grid.max())

    left.plot(z_grid, c_grid, color="0.5", lw=0.8, label="c(x) along a")
    left.plot(z[inside], y[inside], "o", ms=4, color="tab:blue", label="labels")
    left.set(xlim=(z_grid.min(), z_grid.max()), xlabel="projection a.x", ylabel="output",
             title=f"Through every label ({inside.sum()} of {len(z)} points shown)")
    left.legend(fontsize=8)

    # Exact zeros are drawn at 1e-18 so that the log axis can show them.
    right.semilogy(z, np.maximum(residuals, 1e-18), ".", color="tab:blue")
    right.axhline(1e-9, color="k", lw=0.8, ls="--")
    right.set(xlabel="projection a.x", ylabel="|c(x_i) - y_i|", title="Residuals (exact zeros at 1e-18), 1e-9 dashed")

    fig.tight_layout()
    return fig
