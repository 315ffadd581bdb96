"""Full-batch training of a relu MLP with the update rules of lib.optimisers.

The training loss is the mean squared error (1/n) sum_i ||f(x_i) - y_i||^2, computed with
lecture 1's forward and backward passes. Each run records the loss at every step and the
relative update size ||dW_l||_F / ||W_l||_F of every layer.
"""

import numpy as np

from lib import _checks
from lib import data
from lib import mlp
from lib import neurons
from lib import optimisers

# The optimisers compared in lecture 3, by display name.
RULES = {
    "SGD": optimisers.gradient_descent,
    "Adam": optimisers.adam,
    "Fromage": optimisers.fromage,
    "Nero": optimisers.nero,
}


def one_hot(y, n_classes=10):
    """Return the one-hot targets Y (n, n_classes) of the integer labels y."""
    y = np.asarray(y)
    n_classes = _checks.positive_int(n_classes, "n_classes")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"y must be a 1-D array of integer labels in [0, {n_classes}), got {y!r}")
    return np.eye(n_classes)[y]


def load_digits_problem(n, rng):
    """Return (X, Y): n digits drawn without replacement, rows normalised to norm sqrt(64), one-hot targets."""
    n = _checks.positive_int(n, "n")
    rng = _checks.generator(rng)
    X, y = data.load_digits()
    if n > len(y):
        raise ValueError(f"n must be at most {len(y)}, the number of digits, got {n}")

    keep = rng.choice(len(y), size=n, replace=False)
    return data.normalise_rows(X[keep]), one_hot(y[keep])


def mean_loss_and_gradient(W, X, Y, alpha=np.sqrt(2)):
    """Return (loss, grads) of the mean squared error (1/n) sum_i ||f(x_i) - y_i||^2."""
    loss, grads = mlp.gradient(W, X, Y, alpha)
    n = X.shape[0]
    return loss / n, [grad / n for grad in grads]


def relative_update_sizes(W_old, W_new):
    """Return ||W_new[l] - W_old[l]||_F / ||W_old[l]||_F for every layer."""
    return np.array([np.linalg.norm(new - old) / np.linalg.norm(old) for old, new in zip(W_old, W_new)])


def prepare_weights(W, optimiser):
    """Return the starting weights for an optimiser: Nero starts from balanced rows (mean 0, norm 1), the others from W."""
    W = _checks.weight_list(W)
    if optimiser not in RULES:
        raise ValueError(f"optimiser must be one of {sorted(RULES)}, got {optimiser!r}")
    if optimiser == "Nero":
        return [neurons.balance_rows(W_l) for W_l in W]
    return [W_l.copy() for W_l in W]


def train(W, X, Y, rule, n_steps, alpha=np.sqrt(2), divergence_factor=1e3, **hyperparameters):
    """Run n_steps full-batch steps of ``rule`` (a function of lib.optimisers) on every layer.

    Returns a dict with ``losses`` (n_steps + 1,), ``relative_updates`` (n_steps, L), the final
    weights ``W`` and ``diverged``. A run stops, and the remaining entries are NaN, once the
    loss exceeds divergence_factor times its starting value or stops being finite.
    """
    W = _checks.weight_list(W)
    X = _checks.as_array(X, "X", ndim=2)
    Y = _checks.as_array(Y, "Y", shape=(X.shape[0], W[-1].shape[0]))
    n_steps = _checks.positive_int(n_steps, "n_steps")
    divergence_factor = _checks.finite_scalar(divergence_factor, "divergence_factor", low=1.0)
    if not callable(rule):
        raise ValueError(f"rule must be an update rule of lib.optimisers, got {rule!r}")

    losses = np.full(n_steps + 1, np.nan)
    relative_updates = np.full((n_steps, len(W)), np.nan)
    states = [None] * len(W)
    loss, grads = mean_loss_and_gradient(W, X, Y, alpha)
    losses[0] = loss
    diverged = False

    # Overflow in a diverging run is expected and detected below, so numpy stays quiet about it.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(n_steps):
            updated = [rule(W_l, g_l, s_l, **hyperparameters) for W_l, g_l, s_l in zip(W, grads, states)]
            W_new = [W_l for W_l, _ in updated]
            if not all(np.all(np.isfinite(W_l)) for W_l in W_new):
                diverged = True
                break
            relative_updates[step] = relative_update_sizes(W, W_new)
            W, states = W_new, [s_l for _, s_l in updated]

            loss, grads = mean_loss_and_gradient(W, X, Y, alpha)
            if not np.isfinite(loss) or loss > divergence_factor * losses[0]:
                diverged = True
                break
            losses[step + 1] = loss

    return {"losses": losses, "relative_updates": relative_updates, "W": W, "diverged": diverged}


def train_grid(W, X, Y, optimiser_names, etas, n_steps, alpha=np.sqrt(2), callback=None):
    """Train every optimiser of ``optimiser_names`` at every learning rate of ``etas`` from the same W.

    Returns {"etas": etas, "runs": {(name, index of eta): run of train()}}. ``callback()`` is
    called after each run, for example to advance a progress bar.
    """
    etas = _checks.as_array(etas, "etas", ndim=1)
    if np.any(etas <= 0):
        raise ValueError(f"etas must all be positive, got {etas}")

    runs = {}
    for name in optimiser_names:
        W_start = prepare_weights(W, name)
        for index, eta in enumerate(etas):
            runs[name, index] = train(W_start, X, Y, RULES[name], n_steps, alpha, eta=float(eta))
            if callback is not None:
                callback()
    return {"etas": etas, "runs": runs}


def compute_training_view(grid, optimiser, eta):
    """Return the cached run of ``optimiser`` at the grid's learning rate nearest to eta (in log scale), with the losses at every grid eta."""
    eta = _checks.finite_scalar(eta, "eta")
    if eta <= 0:
        raise ValueError(f"eta must be positive, got {eta!r}")
    if not any(name == optimiser for name, _ in grid["runs"]):
        raise ValueError(f"optimiser must be one of those trained in the grid, got {optimiser!r}")

    etas = grid["etas"]
    index = int(np.argmin(np.abs(np.log(etas) - np.log(eta))))
    run = grid["runs"][optimiser, index]
    all_losses = np.array([grid["runs"][optimiser, i]["losses"] for i in range(len(etas))])
    return {
        "optimiser": optimiser,
        "eta": float(etas[index]),
        "etas": etas,
        "losses": run["losses"],
        "relative_updates": run["relative_updates"],
        "diverged": run["diverged"],
        "all_losses": all_losses,
    }
