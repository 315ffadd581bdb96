"""Is gradient descent a Bayesian sampler? Functions on a tiny boolean cube, found by training and under the NNGP.

Mingard et al. ("Is SGD a Bayesian sampler? Well, almost", 2020) compare how often trained networks
land on each function with that function's posterior probability when the prior is the NNGP and
the likelihood keeps exactly the functions that fit the training labels:

    P(test signs s | training signs y) = P(sign f = (y, s) on every input) / P(sign f = y on the training inputs),

a ratio of Gaussian orthant probabilities for f ~ N(0, K_nngp). A function is identified with its
sign pattern on the test inputs, stored as an integer whose bit j is 1 when the sign on test input j is +1.
"""

import itertools

import numpy as np

from lib import _checks, kernels, orthant

ALPHA = np.sqrt(2)


def boolean_cube(d):
    """Return the 2^d points of {-1, +1}^d as rows (2^d, d); each has norm sqrt(d), as course normalisation wants."""
    d = _checks.positive_int(d, "d")
    return np.array(list(itertools.product([-1.0, 1.0], repeat=d)))


def pattern_codes(signs):
    """Return the integer code sum_j 2^j [s_j > 0] of each row of a (..., k) array of signs."""
    signs = np.asarray(signs)
    return ((signs > 0) * (2 ** np.arange(signs.shape[-1]))).sum(axis=-1)


def pattern_signs(codes, k):
    """Return the (len(codes), k) array of +-1 signs whose integer codes are ``codes``."""
    bits = (np.asarray(codes)[:, None] >> np.arange(k)) & 1
    return 2.0 * bits - 1.0


def _split(K, train, y_train):
    """Check a kernel matrix, training indices and +-1 labels, and return (K, train, test, y_train)."""
    K = _checks.as_array(K, "K", ndim=2)
    n = K.shape[0]
    train = np.asarray(train, dtype=int)
    if K.shape != (n, n) or train.ndim != 1 or len(set(train.tolist())) != train.size or np.any((train < 0) | (train >= n)):
        raise ValueError(f"K must be square and train a list of distinct indices into its {n} rows, got {K.shape} and {train!r}")
    y_train = _checks.as_array(y_train, "y_train", shape=(train.size,))
    if not np.all(np.abs(y_train) == 1):
        raise ValueError("y_train must contain only +1 and -1")
    test = np.setdiff1d(np.arange(n), train)
    return K, train, test, y_train


# The NNGP posterior over test sign patterns, two ways.


def posterior_by_rejection(K, train, y_train, n_samples, rng):
    """Return (p, standard error, n_accepted): the NNGP posterior of every test pattern by rejection sampling.

    Draws f ~ N(0, K), keeps the draws whose signs match y_train on the training inputs and counts
    their test patterns. p has one entry per pattern, 2^(number of test inputs) in all.
    """
    K, train, test, y_train = _split(K, train, y_train)
    n_samples = _checks.positive_int(n_samples, "n_samples")
    rng = _checks.generator(rng)

    eigenvalues, eigenvectors = np.linalg.eigh(K)
    factor = eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))
    f = rng.standard_normal((n_samples, K.shape[0])) @ factor.T
    accepted = f[np.all(np.sign(f[:, train]) == y_train, axis=1)]

    counts = np.bincount(pattern_codes(accepted[:, test]), minlength=2**test.size)
    n_accepted = accepted.shape[0]
    if n_accepted == 0:
        raise ValueError("no prior draw fits the training labels; increase n_samples")
    p = counts / n_accepted
    return p, np.sqrt(p * (1 - p) / n_accepted), n_accepted


def posterior_by_orthants(K, train, y_train, n_samples, rng):
    """Return (p, standard error): the NNGP posterior of every test pattern as a ratio of GHK orthant probabilities.

    p(s) = P(signs (y, s)) / P(signs y), both estimated by lib.orthant's GHK sampler; the standard
    error combines both relative errors by the delta method.
    """
    K, train, test, y_train = _split(K, train, y_train)
    order = np.concatenate([train, test])
    K = K[np.ix_(order, order)]
    m = train.size

    log_train, se_train = orthant.log_orthant_probability_ghk(K[:m, :m], n_samples, rng, signs=y_train)
    p, relative_se = [], []
    for s in pattern_signs(np.arange(2**test.size), test.size):
        log_joint, se_joint = orthant.log_orthant_probability_ghk(K, n_samples, rng, signs=np.concatenate([y_train, s]))
        p.append(np.exp(log_joint - log_train))
        relative_se.append(np.hypot(se_joint, se_train))
    p = np.array(p)
    return p, p * np.array(relative_se)


# Gradient descent on many networks at once.


def init_networks(widths, n_networks, rng):
    """Draw n_networks weight lists at once: W[l] has shape (n_networks, d_l, d_{l-1}) with entries N(0, 1 / d_{l-1})."""
    rng = _checks.generator(rng)
    n_networks = _checks.positive_int(n_networks, "n_networks")
    widths = [_checks.positive_int(d, f"widths[{l}]") for l, d in enumerate(widths)]
    return [rng.standard_normal((n_networks, d_out, d_in)) / np.sqrt(d_in) for d_in, d_out in zip(widths[:-1], widths[1:])]


def forward_networks(W, X, alpha=ALPHA):
    """Run lib.mlp's forward pass for a stack of networks: Z[l-1] and A[l] have shape (n_networks, n, d_l), A[0] = X."""
    X = _checks.as_array(X, "X", ndim=2)
    if X.shape[1] != W[0].shape[2]:
        raise ValueError(f"X must have shape (n, {W[0].shape[2]}) to match W[0] of shape {W[0].shape}, got {X.shape}")
    Z, A = [], [np.broadcast_to(X, (W[0].shape[0],) + X.shape)]
    for l, W_l in enumerate(W):
        Z.append(A[-1] @ np.swapaxes(W_l, 1, 2))
        if l < len(W) - 1:
            A.append(alpha * np.maximum(Z[-1], 0.0))
    return Z, A


def gradient_networks(W, X, y, alpha=ALPHA):
    """Return (f, grads) for a stack of networks: f (n_networks, n) and dL/dW^l of L = sum_i (f(x_i) - y_i)^2, as lib.mlp.backward."""
    Z, A = forward_networks(W, X, alpha)

    dZ = 2 * (Z[-1] - y[:, None])
    grads = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        grads[l] = np.swapaxes(dZ, 1, 2) @ A[l]
        if l > 0:
            dZ = (dZ @ W[l]) * alpha * (Z[l - 1] > 0)
    return Z[-1][:, :, 0], grads


def train_to_fit(W, X, y, eta, max_steps, alpha=ALPHA):
    """Run gradient descent (step eta / d_{l-1} on W^l, squared loss) on each network until it fits the signs of y.

    A network stops at the first step where sign f(x_i) = y_i for every training input, so it is
    never trained past zero training error. Returns (W, steps); steps[k] is max_steps + 1 for a
    network that never fitted.
    """
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_array(y, "y", shape=(X.shape[0],))
    eta = _checks.finite_scalar(eta, "eta", low=0.0)
    max_steps = _checks.positive_int(max_steps, "max_steps")
    W = [W_l.copy() for W_l in W]
    steps = np.full(W[0].shape[0], max_steps + 1)

    for step in range(max_steps + 1):
        f, grads = gradient_networks(W, X, y, alpha)
        fitted = np.all(np.sign(f) == y, axis=1) & (steps > max_steps)
        steps[fitted] = step
        active = steps > max_steps
        if step == max_steps or not active.any():
            break
        for l in range(len(W)):
            W[l][active] -= eta / W[l].shape[2] * grads[l][active]
    return W, steps


def gd_pattern_frequencies(X, train, y_train, widths, n_networks, eta, max_steps, rng):
    """Train n_networks random networks on (X[train], y_train) and return (frequencies, standard errors, steps).

    frequencies[c] is the fraction of the networks that fitted whose sign pattern on the test inputs
    (the rows of X not in train, in order) has code c.
    """
    X = _checks.as_array(X, "X", ndim=2)
    _, train, test, y_train = _split(np.eye(X.shape[0]), train, y_train)
    W = init_networks(widths, n_networks, rng)

    W, steps = train_to_fit(W, X[train], y_train, eta, max_steps)
    fitted = steps <= max_steps
    f_test = forward_networks(W, X[test])[0][-1][fitted, :, 0]
    counts = np.bincount(pattern_codes(f_test), minlength=2**test.size)
    p = counts / max(fitted.sum(), 1)
    return p, np.sqrt(p * (1 - p) / max(fitted.sum(), 1)), steps


def compute_sampler_comparison(d, train, y_train, L, width, n_networks, eta, max_steps, n_prior_samples, rng):
    """Compare gradient descent with the NNGP posterior on the boolean cube {-1, +1}^d.

    Returns a dict with the posterior by rejection ("p_bayes", "se_bayes", and "n_accepted" prior
    draws) and the GD frequencies ("p_gd", "se_gd"), indexed by test pattern code, plus each
    network's number of training "steps".
    """
    X = boolean_cube(d)
    K = kernels.nngp_gram(X, L)
    rng = _checks.generator(rng)

    p_bayes, se_bayes, n_accepted = posterior_by_rejection(K, train, y_train, n_prior_samples, rng)
    p_gd, se_gd, steps = gd_pattern_frequencies(X, train, y_train, [d] + [width] * (L - 1) + [1], n_networks, eta, max_steps, rng)
    return {"X": X, "K": K, "train": np.asarray(train), "y_train": np.asarray(y_train, dtype=float), "n_test": X.shape[0] - len(train),
            "p_bayes": p_bayes, "se_bayes": se_bayes, "n_accepted": n_accepted,
            "p_gd": p_gd, "se_gd": se_gd, "steps": steps, "max_steps": max_steps}
