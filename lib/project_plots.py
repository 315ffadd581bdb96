"""Figures of lecture 6. Each function draws the arrays it is given and returns the Figure.

Slider figures stay cheap to redraw. Margins are set with subplots_adjust, because tight_layout
would take most of a redraw. Log axes get plain labels and no minor ticks. Titles get a fixed
height, which spares matplotlib a search for overlapping tick labels. Labels use Unicode symbols
instead of mathtext, whose parser took about a sixth of each redraw.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, NullLocator

PLAIN_LABELS = FuncFormatter(lambda value, _: f"{value:g}")


TITLE_HEIGHT = 1.02


def _plain_log_axes(ax):
    """Label the axes of ``ax`` with plain numbers and drop minor ticks."""
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PLAIN_LABELS)
        axis.set_minor_locator(NullLocator())


def _mean_and_se(values):
    """Return the mean and standard error over axis 1 (the networks)."""
    return values.mean(axis=1), values.std(axis=1, ddof=1) / np.sqrt(values.shape[1])


def plot_ntk_width_panel(panel):
    """Draw the empirical NTK of random networks against the recursion, beside its relative deviation against width."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    degrees = np.degrees(panel["angles"])
    for k, curve in enumerate(panel["kernels"]):
        left.plot(degrees, curve, color="C0", lw=0.8, alpha=0.6, label="random networks" if k == 0 else None)
    left.plot(degrees, panel["theory"], "k-", lw=2, label="recursion Θ_L")
    left.plot(degrees, panel["sigma"], color="0.5", ls="--", label="NNGP Σ_L")
    left.set(xlabel="angle between x and x′ (degrees)", ylabel="Θ(x, x′)", xticks=[0, 45, 90, 135, 180])
    left.set_title(f"depth L = {panel['L']}, width = {panel['width']}", y=TITLE_HEIGHT)
    left.legend(loc="upper right", fontsize=8)

    mean, se = _mean_and_se(panel["deviation"])
    widths = panel["widths"]
    right.errorbar(widths, mean, yerr=se, fmt="o", color="C0", ms=4)
    right.plot(widths, mean[-1] * np.sqrt(widths[-1] / widths), "k:")
    current = int(np.flatnonzero(widths == panel["width"])[0])
    right.plot(widths[current], mean[current], "o", ms=11, mfc="none", mec="C3")
    right.set_xscale("log")
    right.set_yscale("log")
    _plain_log_axes(right)
    right.set(xlabel="width", ylabel="‖Θ_empirical − Θ‖ / ‖Θ‖")
    right.set_title("distance to the limit: mean ± 1 SE; dotted ∝ 1/√width", y=TITLE_HEIGHT)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.28)
    return fig


def plot_lazy_training(result):
    """Draw the relative change of each layer's weights and of the NTK during training against width."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    widths = result["widths"]
    for l in range(result["L"]):
        mean, se = _mean_and_se(result["weight_change"][:, :, l])
        left.errorbar(widths, mean, yerr=se, fmt="o-", ms=4, label=f"layer {l + 1}")
    reference = result["weight_change"][-1].mean(axis=0).max() * np.sqrt(widths[-1] / widths)
    left.plot(widths, reference, "k:", label=r"$\propto 1/\sqrt{\mathrm{width}}$")
    left.set(xlabel="width", ylabel=r"$\|W^l_T - W^l_0\|_F / \|W^l_0\|_F$", title="weights move less as width grows")

    mean, se = _mean_and_se(result["ntk_change"])
    right.errorbar(widths, mean, yerr=se, fmt="o-", ms=4, color="C2")
    right.set(xlabel="width", ylabel=r"$\|\Theta_T - \Theta_0\|_F / \|\Theta_0\|_F$", title="so does the NTK")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_axes(ax)
    left.legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.9, wspace=0.3)
    return fig


def plot_sampler_comparison(result):
    """Draw the frequency of each function found by gradient descent against its NNGP posterior probability."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    p_bayes, p_gd = result["p_bayes"], result["p_gd"]
    # Functions that one side never produced have no place on log axes.
    both_seen = (p_bayes > 0) & (p_gd > 0)
    left.errorbar(p_bayes[both_seen], p_gd[both_seen], xerr=result["se_bayes"][both_seen], yerr=result["se_gd"][both_seen],
                  fmt="o", ms=4, color="C0")
    limits = np.array([0.5 * min(p_bayes[both_seen].min(), p_gd[both_seen].min()), 1.0])
    left.plot(limits, limits, "k:", label="equal")
    left.set_xscale("log")
    left.set_yscale("log")
    _plain_log_axes(left)
    left.set(xlabel="NNGP posterior probability", ylabel="frequency under gradient descent", title="one point per function")
    left.legend(loc="upper left", fontsize=8)

    order = np.argsort(-p_bayes)
    positions = np.arange(order.size)
    right.bar(positions - 0.2, p_bayes[order], width=0.4, label="NNGP posterior")
    right.bar(positions + 0.2, p_gd[order], width=0.4, label="gradient descent")
    right.set_xticks(positions, [format(code, f"0{result['n_test']}b")[::-1] for code in order], rotation=90, fontsize=7)
    right.set(xlabel="signs on the test inputs (1 = +1)", ylabel="probability", title="functions by posterior probability")
    right.legend(fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.24, top=0.9, wspace=0.25)
    return fig


def plot_invariance(result, noise_std, correct, evidence_range=(-20, 50)):
    """Draw each group's log evidence relative to the first group's, beside its test RMSE; bars of the groups in ``correct`` are green.

    Evidence gains below evidence_range[0] are drawn to the bottom edge and labelled with their value.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    positions = np.arange(len(result["names"]))
    colours = ["C2" if name in correct else "C3" for name in result["names"]]
    labels = [f"{name}\n|G| = {size}" for name, size in zip(result["names"], result["sizes"])]
    gains = result["log_evidence"] - result["log_evidence"][0]

    left.bar(positions, np.maximum(gains, evidence_range[0]), color=colours)
    for position, gain in zip(positions, gains):
        if gain < evidence_range[0]:
            left.text(position, evidence_range[0] / 2, f"{gain:.0f}\n(off scale)", ha="center", va="center", fontsize=8, color="w")
    left.axhline(0, color="0.5", lw=0.8)
    left.set_ylim(*evidence_range)
    left.set_xticks(positions, labels, fontsize=8)
    left.set(ylabel=f"ln p(y) - ln p(y | {result['names'][0]})", title="evidence on the training data")

    right.bar(positions, result["test_rmse"], color=colours)
    right.axhline(noise_std, color="k", ls=":", label="noise level")
    right.set_xticks(positions, labels, fontsize=8)
    right.set(ylabel="test RMSE of the posterior mean", title="error on held-out inputs")
    right.legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.9, wspace=0.25)
    return fig


def plot_adversarial_view(view):
    """Draw test accuracy against eps under the sign attack and random signs, beside clean and attacked images."""
    n_examples = view["clean"].shape[0]
    fig = plt.figure(figsize=(10, 3.4))
    curve = fig.add_axes((0.06, 0.14, 0.34, 0.76))
    curve.plot(view["eps_grid"], view["predicted"], "k-", label="y s(x) > ε ‖w‖₁")
    curve.plot(view["eps_grid"], view["attacked"], "o", ms=3, color="C3", label="sign attack")
    curve.plot(view["eps_grid"], view["random"], "-", color="C0", label="random signs")
    curve.axvline(view["eps"], color="0.5", lw=0.8)
    curve.plot(view["eps"], view["accuracy"], "o", ms=10, mfc="none", mec="k")
    curve.set(xlabel="ε (pixels in [0, 1])", ylabel="test accuracy", ylim=(-0.02, 1.02), yticks=[0, 0.5, 1])
    curve.set_title(f"digits {view['classes'][0]} against {view['classes'][1]}, eps = {view['eps']:.2f}", y=TITLE_HEIGHT)
    curve.legend(loc="lower left", fontsize=8)

    # One mosaic image (clean row above attacked row, framed by blank bands drawn in a light colour
    # that hold the logits) draws much faster than an axes per digit.
    mosaic = np.full((22, 9 * n_examples + 1), np.nan)
    for k in range(n_examples):
        mosaic[2:10, 9 * k + 1:9 * k + 9] = view["clean"][k].reshape(8, 8)
        mosaic[13:21, 9 * k + 1:9 * k + 9] = view["adversarial"][k].reshape(8, 8)
    colours = plt.get_cmap("gray_r").with_extremes(bad="lightsteelblue")
    images = fig.add_axes((0.58, 0.04, 0.4, 0.82))
    images.imshow(mosaic, cmap=colours, vmin=0, vmax=1)
    for k in range(n_examples):
        for band, values in ((0.5, view["clean_logits"]), (11, view["adversarial_logits"])):
            colour = "k" if np.sign(values[k]) == view["labels"][k] else "C3"
            images.text(9 * k + 5, band, f"{values[k]:+.2f}", ha="center", va="center", fontsize=8, color=colour)
    images.set_title(f"logit s > 0 reads {view['classes'][0]}; clean above, attacked below; red: wrong", fontsize=9, y=TITLE_HEIGHT)

    direction = fig.add_axes((0.44, 0.3, 0.11, 0.32))
    direction.imshow(view["direction"].reshape(8, 8), cmap="coolwarm", vmin=-1, vmax=1)
    direction.set_title("sign(w)", fontsize=9, y=TITLE_HEIGHT)
    images.axis("off")
    direction.axis("off")
    return fig


def plot_lipschitz(errors, error_bound, looseness):
    """Draw power iteration's error against the SVD with its bound, beside the product bound and measured slopes against depth."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6))
    iterations = np.arange(1, errors.size + 1)
    left.semilogy(iterations, errors, "o", ms=3, label=r"$1 - (\hat\sigma_k / s_1)^2$")
    left.semilogy(iterations, error_bound, "k:", label=r"$\tan^2\theta_0\,(s_2/s_1)^{4k}$")
    left.set(xlabel="iteration k", ylabel="relative error", title="power iteration against the SVD")
    left.legend(fontsize=8)

    depths = looseness["depths"]
    right.semilogy(depths, looseness["bound"], "o-", color="C3", label=r"bound $\alpha^{L-1}\prod_l \|W^l\|_2$")
    right.semilogy(depths, looseness["gradient"], "s-", color="C3", mfc="none", label=r"largest $\|\nabla_x f\|$ measured")
    right.semilogy(depths, looseness["bound_normalised"], "o-", color="C0", label="bound, spectrally normalised")
    right.semilogy(depths, looseness["gradient_normalised"], "s-", color="C0", mfc="none", label="measured, spectrally normalised")
    right.yaxis.set_major_formatter(PLAIN_LABELS)
    right.set(xlabel="depth L", ylabel="Lipschitz constant", title=f"random networks of width {looseness['width']}")
    right.legend(fontsize=7, loc="upper left")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
    return fig
