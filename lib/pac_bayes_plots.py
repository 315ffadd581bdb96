"""Figures of lecture 5. Each function draws the arrays it is given and returns the Figure.

Margins are fixed with subplots_adjust: tight_layout would take about half of each redraw.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

# Plain tick labels on log axes: the default mathtext labels (10^k) dominate a slider redraw.
PLAIN_LABELS = FuncFormatter(lambda value, _: f"{value:g}")


def _plain_log_axis(axis):
    """Label a log-scaled axis with plain numbers and no minor labels."""
    axis.set_major_formatter(PLAIN_LABELS)
    axis.set_minor_formatter(NullFormatter())

BOUND_STYLES = {
    "mcallester": ("McAllester (square root)", "C0", "-"),
    "pinsker": ("kl bound relaxed by Pinsker", "C1", ":"),
    "langford_seeger": ("Langford-Seeger (kl)", "C2", "-"),
    "maurer": ("Maurer (kl)", "C3", "--"),
}


def plot_evidence_curve(curve, shown_degrees=(1, 2, 9)):
    """Draw the data with posterior-mean fits, the log evidence with its Laplace split against degree, and the training error."""
    fig, (data_ax, evidence_ax, error_ax) = plt.subplots(1, 3, figsize=(13, 3.6))
    data_ax.plot(curve["x"], curve["y"], "k.", label="data")
    for degree in shown_degrees:
        index = list(curve["degrees"]).index(degree)
        data_ax.plot(curve["x_grid"], curve["fits"][index], label=f"degree {degree}")
    data_ax.set(xlabel="x", ylabel="y", title="posterior-mean fits")
    data_ax.legend(fontsize=8)

    degrees = curve["degrees"]
    evidence_ax.plot(degrees, curve["log_evidence"], "k-", label="exact ln p(y)")
    evidence_ax.errorbar(degrees, curve["mc_log_evidence"], yerr=4 * curve["mc_standard_error"], fmt="o", color="C3",
                         ms=4, label="importance sampling (4 s.e.)")
    evidence_ax.plot(degrees, curve["best_fit"], "C0--", label="best fit ln p(y | w*)")
    evidence_ax.plot(degrees, curve["log_occam"], "C1--", label="ln Occam factor")
    best = degrees[np.argmax(curve["log_evidence"])]
    evidence_ax.axvline(best, color="0.6", lw=0.8)
    top = curve["best_fit"].max() + 10
    evidence_ax.set(xlabel="degree", ylabel="nats", title=f"evidence peaks at degree {best}",
                    ylim=(curve["log_evidence"][best] - 60, top))
    evidence_ax.legend(fontsize=7, loc="lower right")

    error_ax.semilogy(degrees, curve["train_error"], "o-")
    _plain_log_axis(error_ax.yaxis)
    error_ax.set(xlabel="degree", ylabel="mean squared training error", title="training error keeps falling")
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.9, wspace=0.3)
    return fig


def plot_change_of_measure(family, gaps):
    """Draw E_Q[h] and the Donsker-Varadhan bound along the Gibbs family, beside the gaps of random Q."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(family["lambdas"], family["bound"], label=r"$(KL(Q\|P) + \ln E_P e^{\beta h}) / \beta$")
    left.plot(family["lambdas"], family["expectation"], "--", label=r"$E_Q[h]$")
    left.axvline(family["beta"], color="0.6", lw=0.8, label=r"$\lambda = \beta$ (equality)")
    left.set(xlabel=r"$\lambda$ in $Q_\lambda \propto P e^{\lambda h}$", title=f"beta = {family['beta']:g}")
    left.legend(fontsize=8)

    right.hist(gaps, bins=40, color="C2")
    right.set(xlabel=r"bound $- E_Q[h]$", ylabel="count", title=f"{len(gaps)} random Q: smallest gap {gaps.min():.3g}")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.9, wspace=0.2)
    return fig


def plot_bound_curves(curves):
    """Draw the PAC-Bayes bounds against the empirical error and against m, marking the slider values."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, (label, color, style) in BOUND_STYLES.items():
        left.plot(curves["q_grid"], curves[f"{name}_q"], color=color, ls=style, label=label)
        right.semilogx(curves["m_grid"], curves[f"{name}_m"], color=color, ls=style)
    right.semilogx(curves["m_grid"], curves["realizable_m"], color="C4", ls="-.", label="realizable: 1 - exp(-c) at q = 0")
    left.plot(curves["q_grid"], curves["q_grid"], color="0.6", lw=0.8, label="empirical error")

    left.axvline(curves["emp_error"], color="k", lw=0.8)
    right.axvline(curves["m"], color="k", lw=0.8)
    _plain_log_axis(right.xaxis)
    left.set(xlabel="empirical Gibbs error q", ylabel="bound on the true Gibbs error", ylim=(0, 1.02),
             title=f"KL = {curves['kl']:.1f} nats, m = {curves['m']}")
    right.set(xlabel="m", ylim=(0, 1.02), title=f"KL = {curves['kl']:.1f} nats, q = {curves['emp_error']:.2f}")
    left.legend(fontsize=7, loc="lower right")
    right.legend(fontsize=7, loc="upper right")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.92, wspace=0.18)
    return fig


def plot_rescaling_sharpness(result):
    """Draw the Hessian trace and the perturbed loss increase against the rescaling c, beside the invariant norm-weighted trace."""
    c = result["factors"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.6))
    left.loglog(c, result["trace"], "o", ms=4, label="tr H measured")
    left.loglog(c, result["trace_predicted"], "-", label=r"tr $H_1 / c^2$ + tr $H_2\, c^2$")
    left.loglog(c, result["weighted_trace"], "s", ms=3, label=r"$\sum_l$ tr $H_l \|W^l\|_F^2$ (invariant)")
    left.set(xlabel=r"rescaling $c$: $(c W^1, W^2 / c)$, same function", ylabel="sharpness", title="sharpness depends on c")
    left.legend(fontsize=8)

    right.errorbar(c, result["loss_increase"], yerr=4 * result["loss_increase_se"], fmt="o", ms=4, label="Monte Carlo (4 s.e.)")
    right.plot(c, result["sigma"] ** 2 * result["trace"] / 2, "-", label=r"$\sigma^2$ tr $H / 2$")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set(xlabel="c", ylabel=r"$E[L(W + \epsilon)] - L(W)$", title=f"weight noise sigma = {result['sigma']:g}")
    right.legend(fontsize=8)
    for axis in (left.xaxis, left.yaxis, right.xaxis, right.yaxis):
        _plain_log_axis(axis)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return fig


def plot_init_distances(distances, s):
    """Draw the KL of N(W, s^2 / fan-in) from priors centred at initialisation and at zero against width."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.loglog(distances["widths"], distances["from_zero"] / (2 * s**2), "o-", label="prior centred at zero")
    ax.loglog(distances["widths"], distances["from_init"] / (2 * s**2), "o-", label="prior centred at initialisation")
    ax.set(xlabel="hidden width", ylabel="KL(Q || P) in nats", title=f"same posterior, two priors (s = {s:g})")
    _plain_log_axis(ax.xaxis)
    _plain_log_axis(ax.yaxis)
    ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.15, top=0.9)
    return fig


def plot_linear_tradeoff(curves):
    """Draw the training and test Gibbs errors, the bound and the KL along sigma and along the mean scale, marking the slider values."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, axis, label in ((axes[0], "sigma", "posterior standard deviation sigma"), (axes[1], "scale", "posterior mean scale ||mu||")):
        grid = curves[f"{axis}_grid"]
        ax.semilogx(grid, curves[f"train_{axis}"], "C0", label="training Gibbs error")
        ax.semilogx(grid, curves[f"test_{axis}"], "C0:", label="test Gibbs error")
        ax.semilogx(grid, curves[f"bound_{axis}"], "C3", label="Langford-Seeger bound")
        ax.axhline(0.5, color="0.6", lw=0.8)
        ax.axvline(curves[axis], color="k", lw=0.8)
        ax.set(xlabel=label, ylim=(0, 1.02))
        twin = ax.twinx()
        ax.plot([], [], "C2--", label="KL (right axis)")
        twin.semilogx(grid, curves[f"kl_{axis}"], "C2--")
        twin.set_ylabel("KL(Q || P) in nats", color="C2")
        twin.set_yscale("log")
        _plain_log_axis(ax.xaxis)
        _plain_log_axis(twin.yaxis)
    axes[0].legend(fontsize=7, loc="upper left")
    point = (f"bound {curves['bound_point'][0]:.3f} from training Gibbs error {curves['train_point'][0]:.3f} "
             f"and KL {curves['kl_point'][0]:.1f} nats")
    fig.suptitle(f"scale = {curves['scale']:.2f}, sigma = {curves['sigma']:.3f}: {point}", fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.93, bottom=0.14, top=0.88, wspace=0.35)
    return fig


def plot_bound_summary(rows):
    """Draw, per computation, the training Gibbs error, the test Gibbs error and the bound as grouped bars. ``rows`` maps a label to those three numbers."""
    labels = list(rows)
    values = np.array([rows[label] for label in labels])
    positions = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(10, 3.8))
    for k, (name, color) in enumerate((("training Gibbs error", "C0"), ("test Gibbs error", "C1"), ("bound", "C3"))):
        ax.bar(positions + (k - 1) * 0.27, values[:, k], width=0.27, color=color, label=name)
    ax.axhline(0.5, color="0.4", lw=0.8, ls="--", label="guessing")
    ax.set_xticks(positions, labels, fontsize=8)
    ax.set(ylabel="error", ylim=(0, 1.02), title="PAC-Bayes bounds on digits 3 against 8")
    ax.legend(fontsize=8, loc="upper left")
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.18, top=0.9)
    return fig


def plot_function_space(result):
    """Draw ln 1/P(U) and the realizable bound against m for the true and the random labels."""
    m = result["m"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 3.6))
    for name, color in (("true", "C0"), ("random", "C3")):
        left.errorbar(m, -result[f"log_p_{name}"], yerr=4 * result[f"se_{name}"], fmt="o-", color=color, ms=4, label=f"{name} labels")
        right.plot(m, result[f"bound_{name}"], "o-", color=color, ms=4, label=f"{name} labels")
    left.plot(m, m * np.log(2), "k:", label=r"$m \ln 2$ (a uniform prior over labelings)")
    left.set(xlabel="m", ylabel=r"$\ln 1 / P(U)$ in nats", title="KL of the function-space posterior")
    right.axhline(0.5, color="0.6", lw=0.8)
    right.set(xlabel="m", ylabel="bound on the Gibbs error", ylim=(0, 1), title="realizable PAC-Bayes bound")
    left.legend(fontsize=8)
    right.legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return fig
