"""Figures of lecture 1. Each function draws arrays it is given and returns the Figure."""

import matplotlib.pyplot as plt
import numpy as np

from lib.neurons import alpha_star
from lib.propagation import variance_gain


def plot_relu_neuron(w, extent=2.0, resolution=101):
    """Draw relu(w . x) over the plane: zero on one side of the line w . x = 0, a ramp along w on the other."""
    grid = np.linspace(-extent, extent, resolution)
    x1, x2 = np.meshgrid(grid, grid)
    y = np.maximum(w[0] * x1 + w[1] * x2, 0.0)

    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    image = ax.imshow(y, origin="lower", extent=(-extent, extent, -extent, extent), cmap="viridis")
    ax.contour(x1, x2, w[0] * x1 + w[1] * x2, levels=[0.0], colors="white", linestyles="--")
    ax.arrow(0, 0, w[0], w[1], color="white", width=0.03, length_includes_head=True)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=r"$y = \mathrm{relu}(w \cdot x)$")
    fig.colorbar(image, ax=ax)
    return fig


def plot_network_graph(widths):
    """Draw an MLP with the given widths as a directed acyclic graph, inputs on the left."""
    fig, ax = plt.subplots(figsize=(1.6 * len(widths), 3.0))
    positions = [np.linspace(-1, 1, d) if d > 1 else np.zeros(1) for d in widths]
    for l in range(len(widths) - 1):
        for y_in in positions[l]:
            for y_out in positions[l + 1]:
                ax.plot([l, l + 1], [y_in, y_out], color="0.75", lw=0.8, zorder=1)
    for l, column in enumerate(positions):
        ax.scatter(np.full(len(column), l), column, s=160, color="C0" if 0 < l < len(widths) - 1 else "C1", zorder=2)
    ax.set_xticks(range(len(widths)), [f"$d_{l} = {d}$" for l, d in enumerate(widths)])
    ax.set_yticks([])
    ax.spines[["left", "top", "right"]].set_visible(False)
    return fig


def plot_variance_profile(profile):
    """Draw the measured and predicted log10 scale of the pre-activations against layer.

    Dotted lines mark the predictions at the two critical scales, sqrt(2) and alpha*. Labels are
    plain Unicode rather than mathtext, which keeps a slider redraw fast.
    """
    fig, ax = plt.subplots(figsize=(7, 3.8))
    layer = profile["layer"]
    gains = {"√2": variance_gain(np.sqrt(2), profile["balanced"]), "α*": variance_gain(alpha_star(), profile["balanced"])}
    references = [(layer - 1) * np.log10(gain) for gain in gains.values()]
    for name, reference, color in zip(gains, references, ("C2", "C3")):
        ax.plot(layer, reference, ":", color=color, label=f"theory at α = {name}")
    ax.plot(layer, np.log10(profile["theory"]), "-", color="C1", label="theory: gain^(l−1)")
    ax.plot(layer, np.log10(profile["measured"]), "o", ms=4, color="C0", label="measured")

    values = np.concatenate([np.log10(profile["measured"]), np.log10(profile["theory"])] + references)
    ax.set_ylim(min(values.min(), -1.0) - 0.3, max(values.max(), 1.0) + 0.3)
    mode = "balanced rows: variance" if profile["balanced"] else "random N(0, 1/d) weights: second moment"
    ax.set(xlabel="layer l", ylabel="log₁₀ scale of zˡ", title=f"α = {profile['alpha']:.3f}, {mode}")
    ax.legend(loc="upper left", fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.13, top=0.91)
    return fig


def plot_gain_curves():
    """Draw the per-layer gain against alpha for random and balanced weights, with the critical scales sqrt(2) and alpha*."""
    fig, ax = plt.subplots(figsize=(6, 3.6))
    alphas = np.linspace(0.8, 2.2, 100)
    ax.plot(alphas, variance_gain(alphas, balanced=False), label="random weights: α²/2")
    ax.plot(alphas, variance_gain(alphas, balanced=True), label="balanced rows: α²(1 − 1/π)/2")
    ax.axvline(np.sqrt(2), color="C0", ls=":", label="√2")
    ax.axvline(alpha_star(), color="C1", ls=":", label="α*")
    ax.axhline(1.0, color="0.6", lw=0.8)
    ax.set(xlabel="α", ylabel="gain per layer", title="critical where the gain is 1")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_perturbation_profile(profile):
    """Draw the measured relative output change against depth beside (1 + eta)^L - 1 and L eta, on a log10 axis."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    depth = profile["depth"]
    ax.plot(depth, np.log10(profile["bound"]), "-", label="(1 + η)^L − 1")
    ax.plot(depth, np.log10(profile["first_order"]), "--", label="Lη (first order)")
    ax.plot(depth, np.log10(profile["aligned"]), "o", ms=4, label="measured, ΔWˡ = ηWˡ")
    ax.plot(depth, np.log10(profile["random"]), "s", ms=4, label="measured, random directions")
    ax.set(xlabel="depth L", ylabel="log₁₀ relative output change", title=f"η = {profile['eta']:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.13, top=0.91)
    return fig


def plot_singular_value_perturbation(s_before, s_after, spectral_norm_E):
    """Draw singular values before and after a perturbation, with Weyl's band of half-width ||E||_2."""
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    index = np.arange(1, len(s_before) + 1)
    ax.fill_between(index, s_before - spectral_norm_E, s_before + spectral_norm_E, color="C0", alpha=0.2,
                    label=r"$s_i(A) \pm \|E\|_2$ (Weyl)")
    ax.plot(index, s_before, "o-", ms=3, label="$s_i(A)$")
    ax.plot(index, s_after, "x", label="$s_i(A + E)$")
    ax.set(xlabel="index $i$", ylabel="singular value")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_attention_variance(d_k, variance, standard_error):
    """Draw the sample variance of q . k against d_k with error bars beside the line Var = d_k."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.errorbar(d_k, variance, yerr=4 * standard_error, fmt="o", label=r"Monte Carlo $\pm 4$ SE")
    ax.plot(d_k, d_k, "-", label=r"theory: $d_k$")
    ax.set(xscale="log", yscale="log", xlabel="$d_k$", ylabel=r"Var$[q \cdot k]$")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_search_histories(reinforce_history, reinforce_labels, darts_history, darts_labels):
    """Draw the REINFORCE policy and DARTS's softmax(a) over the search steps side by side."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    for k, label in enumerate(reinforce_labels):
        left.plot(reinforce_history[:, k], label=label)
    left.set(xlabel="REINFORCE step", ylabel="policy probability", title="RL outer loop")
    left.legend(fontsize=7, ncol=2)
    for k, label in enumerate(darts_labels):
        right.plot(darts_history[:, k], label=label)
    right.set(xlabel="DARTS step", ylabel=r"softmax$(a)_k$", title="DARTS mixed operation")
    right.legend(fontsize=7)
    fig.tight_layout()
    return fig
