"""Computations behind lecture 2: universal approximation, Gaussian limits of wide networks, GP regression.

Each compute_* function returns a dict of arrays for a plot_* function of lib.function_space_plots.
"""

import matplotlib.cbook
import matplotlib.image
import numpy as np
import scipy.linalg

from lib import _checks, data, gp, kernels, sampling

NOISE_LEVELS = (0.05, 0.25, 0.5)
WIDTH_GRID = (4, 8, 16, 32, 64, 128, 256, 512, 1024)

# Var[phi(g)^2] for g ~ N(0, 1) and phi(z) = sqrt(2) max(0, z): E[phi^4] = 4 * 3/2 = 6 and E[phi^2] = 1.
RELU_SQUARE_VARIANCE = 5.0


# Universal approximation in one dimension.


def target_function(x):
    """Return the demo target f(x) = sin(2 pi x) + sin(6 pi x) / 2 on [0, 1]."""
    return np.sin(2 * np.pi * x) + 0.5 * np.sin(6 * np.pi * x)


# max |f''| <= (2 pi)^2 + (6 pi)^2 / 2 = 22 pi^2 for the target above, by the triangle inequality.
TARGET_CURVATURE_BOUND = 22 * np.pi**2


def relu_interpolant(knots, values):
    """Return (a, b) so that b + sum_k a_k relu(x - knots[k]) (k < N) passes through all N + 1 points.

    At knot j the network is b + sum_{k<j} a_k (knots[j] - knots[k]): a lower-triangular system in a
    with positive diagonal, solved by forward substitution.
    """
    knots = _checks.as_array(knots, "knots", ndim=1)
    values = _checks.as_array(values, "values", shape=knots.shape)
    if knots.size < 2 or np.any(np.diff(knots) <= 0):
        raise ValueError(f"knots must be strictly increasing with at least 2 entries, got {knots}")

    M = np.maximum(knots[1:, None] - knots[None, :-1], 0.0)
    a = scipy.linalg.solve_triangular(M, values[1:] - values[0], lower=True)
    return a, float(values[0])


def relu_network_1d(x, knots, a, b):
    """Return b + sum_k a_k relu(x - knots[k]): a one-hidden-layer relu network with len(a) units."""
    x = np.asarray(x, dtype=float)
    return b + np.maximum(x[..., None] - knots[: len(a)], 0.0) @ a


def compute_interpolation(n_units, max_units=40, n_grid=1001):
    """Fit the target with n_units relu units through n_units + 1 equally spaced knots; errors for 1..max_units units.

    The sup-norm bound is h^2 max|f''| / 8 with knot spacing h = 1 / N (linear interpolation).
    """
    n_units = _checks.positive_int(n_units, "n_units")
    max_units = _checks.positive_int(max_units, "max_units")
    grid = np.linspace(0.0, 1.0, _checks.positive_int(n_grid, "n_grid"))
    target = target_function(grid)

    units = np.arange(1, max(max_units, n_units) + 1)
    sup_errors = np.empty(units.size)
    for i, N in enumerate(units):
        knots = np.linspace(0.0, 1.0, N + 1)
        a, b = relu_interpolant(knots, target_function(knots))
        sup_errors[i] = np.max(np.abs(relu_network_1d(grid, knots, a, b) - target))

    knots = np.linspace(0.0, 1.0, n_units + 1)
    a, b = relu_interpolant(knots, target_function(knots))
    return {
        "n_units": n_units, "knots": knots, "values": target_function(knots), "a": a, "b": b,
        "grid": grid, "target": target, "network": relu_network_1d(grid, knots, a, b),
        "units": units, "sup_errors": sup_errors, "bound": TARGET_CURVATURE_BOUND / (8 * units**2),
    }


# Inputs: a clean image and noisy copies, normalised as the course does.


def noisy_copies(x, noise_levels, rng):
    """Return rows x, clip(x + s_k e_k, 0, 1) for each noise level s_k, with e_k standard normal; x lies in [0, 1]^d."""
    x = _checks.as_array(x, "x", ndim=1)
    rng = _checks.generator(rng)
    levels = [_checks.finite_scalar(s, "noise_levels", low=0.0) for s in noise_levels]

    copies = [np.clip(x + s * rng.standard_normal(x.shape), 0.0, 1.0) for s in levels]
    return np.vstack([x] + copies)


def digit_with_noisy_copies(rng, index=0, noise_levels=NOISE_LEVELS):
    """Return a bundled 8x8 digit (pixels scaled to [0, 1]) and its noisy copies, rows rescaled to norm sqrt(64)."""
    X, _ = data.load_digits()
    return data.normalise_rows(noisy_copies(X[index] / 16.0, noise_levels, rng))


def image_with_noisy_copies(rng, side=32, noise_levels=NOISE_LEVELS):
    """Return matplotlib's Grace Hopper photo block-averaged to side x side x 3 and noisy copies, rows of norm sqrt(3 side^2)."""
    side = _checks.positive_int(side, "side")
    image = matplotlib.image.imread(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) / 255.0
    crop = min(image.shape[:2]) // side * side
    if crop == 0:
        raise ValueError(f"side must be at most {min(image.shape[:2])} pixels, got {side}")

    block = crop // side
    small = image[:crop, :crop].reshape(side, block, side, block, 3).mean(axis=(1, 3))
    return data.normalise_rows(noisy_copies(small.ravel(), noise_levels, rng))


# Non-Gaussianity of finite networks.


def output_excess_kurtosis(widths):
    """Return the exact excess kurtosis 3 (prod_{l=1}^{L-1} (1 + 5 / d_l) - 1) of f(x) for one input.

    Given layer l - 1, the output is N(0, S) with S = |x|^2/d0 * prod_l R_l, where R_l = sum_i phi(g_i)^2 / d_l
    are independent with mean 1 and variance 5 / d_l; so E[f^4] / E[f^2]^2 = 3 E[S^2] / E[S]^2.
    widths = [d0, d1, ..., d_{L-1}, 1]; d0 does not enter.
    """
    widths = [_checks.positive_int(d, f"widths[{l}]") for l, d in enumerate(widths)]
    hidden = np.array(widths[1:-1], dtype=float)
    return float(3 * (np.prod(1 + RELU_SQUARE_VARIANCE / hidden) - 1))


def excess_kurtosis(samples):
    """Return (kappa, standard error) with kappa = m4 / m2^2 - 3 from moments about 0, along axis 0.

    The standard error is the delta method's, from the sample covariance of (f^2, f^4).
    """
    samples = _checks.as_array(samples, "samples")
    if samples.shape[0] < 2:
        raise ValueError(f"samples must have at least 2 entries along axis 0, got shape {samples.shape}")
    squares = samples**2
    m2, m4 = squares.mean(axis=0), (squares**2).mean(axis=0)

    grad_m2, grad_m4 = -2 * m4 / m2**3, 1 / m2**2
    var_m2, var_m4 = squares.var(axis=0, ddof=1), (squares**2).var(axis=0, ddof=1)
    cov = np.mean((squares - m2) * (squares**2 - m4), axis=0) * samples.shape[0] / (samples.shape[0] - 1)
    variance = grad_m2**2 * var_m2 + 2 * grad_m2 * grad_m4 * cov + grad_m4**2 * var_m4
    return m4 / m2**2 - 3, np.sqrt(variance / samples.shape[0])


def second_moments(samples):
    """Return (M, standard error) with M[i, j] the mean of f_i f_j over the rows of samples (n_networks, n)."""
    samples = _checks.as_array(samples, "samples", ndim=2)
    products = samples[:, :, None] * samples[:, None, :]
    return products.mean(axis=0), products.std(axis=0, ddof=1) / np.sqrt(samples.shape[0])


def ellipse_coverage(samples, K, level=0.95):
    """Return the fraction of 2-D samples (N, 2) inside the level ellipse v^T K^-1 v <= -2 log(1 - level) of N(0, K)."""
    radius2 = -2 * np.log(1 - level)
    inside = np.sum(samples * np.linalg.solve(K, samples.T).T, axis=1) <= radius2
    return float(inside.mean())


def network_widths(d0, width, depth):
    """Return [d0, width, ..., width, 1] for a depth-L network (L - 1 hidden layers)."""
    return [d0] + [width] * (depth - 1) + [1]


def compute_width_study(X, depth, n_networks, n_networks_kurtosis, rng, widths=WIDTH_GRID):
    """Sample networks of every width in widths once, for the width slider.

    For each width: outputs on all rows of X from n_networks networks, and the excess kurtosis of
    f(X[0]) from n_networks_kurtosis further networks with its standard error and exact value.
    """
    X = _checks.as_array(X, "X", ndim=2)
    depth = _checks.positive_int(depth, "depth")
    rng = _checks.generator(rng)
    d0 = X.shape[1]

    samples, kappa, kappa_se = {}, [], []
    for width in widths:
        samples[width] = sampling.sample_outputs(X, network_widths(d0, width, depth), n_networks, rng)
        clean = sampling.sample_outputs(X[:1], network_widths(d0, width, depth), n_networks_kurtosis, rng)
        value, se = excess_kurtosis(clean[:, 0])
        kappa.append(value)
        kappa_se.append(se)

    theory = [output_excess_kurtosis(network_widths(d0, width, depth)) for width in widths]
    return {
        "depth": depth, "widths": np.array(widths), "samples": samples, "K": kernels.nngp_gram(X, depth),
        "kurtosis": np.array(kappa), "kurtosis_se": np.array(kappa_se), "kurtosis_theory": np.array(theory),
    }


def compute_width_panel(study, width):
    """Select one width of a width study: its samples, the NNGP covariance and 95% ellipse coverages."""
    if width not in study["samples"]:
        raise ValueError(f"width must be one of {list(study['widths'])}, got {width!r}")
    samples = study["samples"][width]
    K = study["K"]

    coverage = [ellipse_coverage(samples[:, [0, k]], K[np.ix_([0, k], [0, k])]) for k in range(1, K.shape[0])]
    return {
        "width": width, "depth": study["depth"], "samples": samples, "K": K, "coverage": np.array(coverage),
        "widths": study["widths"], "kurtosis": study["kurtosis"], "kurtosis_se": study["kurtosis_se"],
        "kurtosis_theory": study["kurtosis_theory"],
    }


# Depth: prior functions on a circle of inputs.


def circle_inputs(n_angles):
    """Return (theta, X): n_angles equally spaced angles and the inputs sqrt(2) (cos theta, sin theta) of norm sqrt(d0)."""
    theta = np.linspace(0.0, 2 * np.pi, _checks.positive_int(n_angles, "n_angles"), endpoint=False)
    return theta, np.sqrt(2) * np.column_stack([np.cos(theta), np.sin(theta)])


def compute_depth_study(width, max_depth, n_angles, n_networks, rng):
    """Sample n_networks networks of depth max_depth on a circle once, for the depth slider.

    Unit 1 of layer L is a draw of a depth-L network's output, so one deep network gives every depth.
    The same standard normals feed the GP draws at every depth, so the slider morphs one set of functions.
    NOTE: a layer whose units are all off for some input (likely only at widths of a few units) gives
    that input zero variance and NaN correlations.
    """
    width = _checks.positive_int(width, "width")
    max_depth = _checks.positive_int(max_depth, "max_depth")
    rng = _checks.generator(rng)
    theta, X = circle_inputs(n_angles)

    first_units, K = sampling.sample_layerwise(X, [2] + [width] * max_depth, n_networks, rng)
    scale = np.sqrt(np.diagonal(K, axis1=2, axis2=3))
    correlation = K[:, :, 0, :] / (scale[:, :, :1] * scale)
    return {
        "theta": theta, "X": X, "width": width, "max_depth": max_depth, "first_units": first_units,
        "correlation": correlation.mean(axis=1),
        "correlation_se": correlation.std(axis=1, ddof=1) / np.sqrt(n_networks),
        "normals": rng.standard_normal((theta.size, n_networks)),
    }


def compute_depth_panel(study, depth):
    """Select one depth of a depth study: NNGP kernel against angle, GP prior draws and network draws."""
    depth = _checks.positive_int(depth, "depth")
    if depth > study["max_depth"]:
        raise ValueError(f"depth must be at most the study's max_depth = {study['max_depth']}, got {depth}")
    K = kernels.nngp_gram(study["X"], depth)
    half = study["theta"] <= np.pi

    return {
        "depth": depth, "width": study["width"], "theta": study["theta"], "angle": study["theta"][half],
        "kernel": K[0, half], "correlation": study["correlation"][depth - 1][half],
        "correlation_se": study["correlation_se"][depth - 1][half],
        "kernels_all": np.array([kernels.h_depth(np.cos(study["theta"][half]), L) for L in range(1, study["max_depth"] + 1)]),
        "gp_draws": sampling.psd_square_root(K) @ study["normals"], "network_draws": study["first_units"][depth - 1].T,
    }


# Correlations through depth.


def correlation_decay(t, max_depth):
    """Return (depths, 1 - h^{o(L-1)}(t)) for L = 1..max_depth, iterating h; the gaps have shape (max_depth,) + t.shape.

    h(t) loses digits as t nears 1, so gaps below about 1e-8 (depths beyond about 1e4) are unreliable.
    """
    max_depth = _checks.positive_int(max_depth, "max_depth")
    rho = [np.asarray(kernels.h_depth(t, 1))]
    for _ in range(max_depth - 1):
        rho.append(np.asarray(kernels.h(rho[-1])))
    return np.arange(1, max_depth + 1), 1 - np.array(rho)


# Asymptote of 1 - rho_L: near 1, h(1 - e) = 1 - e + c e^(3/2) + O(e^(5/2)) with c = 2 sqrt(2) / (3 pi),
# and e' = e - c e^(3/2) gives e_L ~ 4 / (c^2 L^2) = 9 pi^2 / (2 L^2).
CORRELATION_DECAY_CONSTANT = 9 * np.pi**2 / 2


def monte_carlo_h(t_grid, n_samples, rng):
    """Estimate h(t) = E[phi(u) phi(v)] and h'(t) = E[phi'(u) phi'(v)] for correlated standard normals (u, v).

    Returns (h_mean, h_se, h_prime_mean, h_prime_se), each of the shape of t_grid.
    """
    t_grid = _checks.as_array(t_grid, "t_grid", ndim=1)
    rng = _checks.generator(rng)
    results = np.empty((4, t_grid.size))

    for i, t in enumerate(t_grid):
        u = rng.standard_normal(n_samples)
        v = t * u + np.sqrt(max(1 - t**2, 0.0)) * rng.standard_normal(n_samples)
        value = 2 * np.maximum(u, 0) * np.maximum(v, 0)
        slope = 2.0 * ((u > 0) & (v > 0))
        results[:, i] = value.mean(), value.std() / np.sqrt(n_samples), slope.mean(), slope.std() / np.sqrt(n_samples)
    return tuple(results)


# GP regression on digits.


def one_hot_targets(labels, n_classes=10):
    """Return centred one-hot targets: 1 - 1/C for the true class, -1/C elsewhere."""
    labels = np.asarray(labels)
    return np.eye(n_classes)[labels] - 1.0 / n_classes


def split_digits(n_train, n_test, rng):
    """Return (X_train, y_train, X_test, y_test) drawn without replacement from the bundled digits."""
    X, y = data.load_digits()
    order = _checks.generator(rng).permutation(len(y))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    return X[train], y[train], X[test], y[test]


def nngp_regression(X_train, Y_train, X_test, depth, noise_var):
    """Return (posterior mean at X_test, log marginal likelihood) of GP regression with the depth-L NNGP kernel."""
    K = kernels.nngp_gram(np.vstack([X_train, X_test]), depth)
    n = len(X_train)

    mean, _ = gp.posterior(K[:n, :n], K[n:, :n], K[n:, n:], Y_train, noise_var)
    return mean, gp.log_marginal_likelihood(K[:n, :n], Y_train, noise_var)


def compute_depth_evidence(X_train, Y_train, X_test, y_test, max_depth, noise_var):
    """Return (depths, log marginal likelihoods, test accuracies) of NNGP regression for depths 1..max_depth.

    The Gram matrices are built by applying h to the previous depth's, K_{L+1} = h(K_L), once each.
    Accuracy is the fraction of test inputs whose largest posterior mean is the true class.
    """
    max_depth = _checks.positive_int(max_depth, "max_depth")
    K = kernels.nngp_gram(np.vstack([X_train, X_test]), 1)
    n = len(X_train)

    evidence, accuracy = [], []
    for L in range(1, max_depth + 1):
        if L > 1:
            K = kernels.h(K)
        mean, _ = gp.posterior(K[:n, :n], K[n:, :n], K[n:, n:], Y_train, noise_var)
        evidence.append(gp.log_marginal_likelihood(K[:n, :n], Y_train, noise_var))
        accuracy.append(np.mean(mean.argmax(axis=1) == y_test))
    return np.arange(1, max_depth + 1), np.array(evidence), np.array(accuracy)


def finite_width_regression(X_train, Y_train, X_test, depth, width, noise_var, rng):
    """Return the posterior mean at X_test of GP regression with one random finite network's kernel.

    With the hidden layers fixed, the output weights' Gaussian prior makes f a GP with kernel
    A A^T / width, so this is exact Bayesian inference over the last layer of that network.
    """
    K = kernels.empirical_nngp_gram(np.vstack([X_train, X_test]), depth, width, rng)
    n = len(X_train)

    mean, _ = gp.posterior(K[:n, :n], K[n:, :n], K[n:, n:], Y_train, noise_var)
    return mean
