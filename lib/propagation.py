"""Propagation of the activation scale through depth, behind the alpha slider of lecture 1.

Two propagation laws, kept apart:
- random zero-mean weights N(0, 1/fan-in): the second moment of the pre-activations changes
  by alpha^2 / 2 per layer, so alpha = sqrt(2) is critical;
- balanced rows (mean 0, norm 1): the variance changes by alpha^2 (1 - 1/pi) / 2 per layer,
  so alpha* = sqrt(2 / (1 - 1/pi)) is critical.
"""

import numpy as np
import threadpoolctl

from lib import _checks
from lib.neurons import balance_rows, scaled_relu


def variance_gain(alpha, balanced):
    """Return the per-layer factor on the pre-activation scale: alpha^2 (1 - 1/pi) / 2 if balanced, else alpha^2 / 2.

    alpha may be a scalar or an array of values.
    """
    alpha = _checks.as_array(alpha, "alpha")
    return alpha**2 * (1 - 1 / np.pi) / 2 if balanced else alpha**2 / 2


def draw_propagation_setup(rng, depth=30, width=256, n=256):
    """Draw the inputs and both weight families of a deep square network once, for every alpha.

    Returns a dict with X (n, width) of N(0, 1) entries, W_random (entries N(0, 1/width))
    and W_balanced (the same Gaussian matrices with rows balanced to mean 0 and norm 1).
    """
    rng = _checks.generator(rng)
    depth = _checks.positive_int(depth, "depth")
    width = _checks.positive_int(width, "width")
    n = _checks.positive_int(n, "n")

    X = rng.standard_normal((n, width))
    G = [rng.standard_normal((width, width)) for _ in range(depth)]
    return {
        "X": X,
        "W_random": [G_l / np.sqrt(width) for G_l in G],
        "W_balanced": [balance_rows(G_l) for G_l in G],
    }


def compute_variance_profile(setup, alpha, balanced):
    """Propagate the setup's inputs through alpha-scaled relu layers and measure each layer's pre-activations.

    Returns a dict: layer (1..L), measured (mean of z^2 over units and inputs for random
    weights, variance for balanced rows), theory (gain^(l-1)), alpha, balanced.
    """
    alpha = _checks.finite_scalar(alpha, "alpha", low=0.0)
    W = setup["W_balanced"] if balanced else setup["W_random"]

    # One BLAS thread: these products are small, and threads that spin while the other
    # core is busy made the redraw ten times slower on a 2-core machine.
    measured = []
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        z = setup["X"] @ W[0].T
        measured.append(np.var(z) if balanced else np.mean(z**2))
        for W_l in W[1:]:
            z = scaled_relu(z, alpha) @ W_l.T
            measured.append(np.var(z) if balanced else np.mean(z**2))

    layer = np.arange(1, len(W) + 1)
    theory = variance_gain(alpha, balanced) ** (layer - 1)
    return {"layer": layer, "measured": np.array(measured), "theory": theory, "alpha": alpha, "balanced": balanced}
