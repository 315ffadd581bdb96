"""Statistical learning theory: Cover's count, dichotomy enumeration, VC bounds, the randomisation test.

Dichotomies here are labellings y in {-1, +1}^N of N points x_i in R^d, and a dichotomy is
(homogeneously) linearly separable when some w has y_i w.x_i > 0 for every i. An affine
separator in R^d is a homogeneous one in R^(d+1) after appending a constant 1 to each point.
"""

import itertools
import math
import numbers

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.special
import scipy.stats
import threadpoolctl

from lib import _checks, data, kernels, neurons


# Cover's function-counting theorem


def cover_count(N, d):
    """Return Cover's count C(N, d) = 2 sum_{k=0}^{d-1} binom(N-1, k) as an exact int, with binom(m, k) = 0 for k > m.

    For N points in general position in R^d it is the number of homogeneously separable dichotomies.
    """
    N = _checks.positive_int(N, "N")
    d = _checks.positive_int(d, "d")

    return 2 * sum(math.comb(N - 1, k) for k in range(d))


def cover_table(N_max, d_max):
    """Return C(N, d) for 1 <= N <= N_max, 1 <= d <= d_max as exact ints, table[N - 1][d - 1].

    Built by the recursion C(N + 1, d) = C(N, d) + C(N, d - 1) from C(1, d) = 2 and C(N, 0) = 0,
    an independent route to the closed form.
    """
    N_max = _checks.positive_int(N_max, "N_max")
    d_max = _checks.positive_int(d_max, "d_max")

    row = [0] + [2] * d_max
    table = [row[1:]]
    for _ in range(N_max - 1):
        row = [0] + [row[d] + row[d - 1] for d in range(1, d_max + 1)]
        table.append(row[1:])
    return table


def cover_ratio(N, d):
    """Return C(N, d) / 2^N as floats, computed as P(Binomial(N - 1, 1/2) <= d - 1). N and d broadcast."""
    N = np.asarray(N)
    d = np.asarray(d)
    if np.any(N < 1) or np.any(d < 1):
        raise ValueError(f"N and d must be positive integers, got N={N!r}, d={d!r}")

    return scipy.stats.binom.cdf(d - 1, N - 1, 0.5)


def cover_ratio_normal(N, d):
    """Return the normal approximation Phi((2d - N) / sqrt(N - 1)) of C(N, d) / 2^N, for N >= 2."""
    N = np.asarray(N, dtype=float)
    d = np.asarray(d, dtype=float)
    if np.any(N < 2):
        raise ValueError(f"N must be >= 2 for the normal approximation, got N={N!r}")

    return scipy.stats.norm.cdf((2 * d - N) / np.sqrt(N - 1))


def transition_width(d, low=0.1, high=0.9):
    """Return the width in N/d over which C(N, d) / 2^N falls from ``high`` to ``low``, interpolating linearly in N."""
    d = _checks.positive_int(d, "d")
    low = _checks.finite_scalar(low, "low", 0, 1)
    high = _checks.finite_scalar(high, "high", low, 1)

    N = np.arange(1, 8 * d + 41)
    ratio = cover_ratio(N, d)

    # The ratio decreases in N, so np.interp needs both arrays reversed.
    N_high = np.interp(high, ratio[::-1], N[::-1])
    N_low = np.interp(low, ratio[::-1], N[::-1])
    return (N_low - N_high) / d


def compute_transition_widths(d_max):
    """Compute the transition widths for d = 1..d_max, exact and from the normal approximation 2 z_0.9 sqrt(2/d)."""
    d_max = _checks.positive_int(d_max, "d_max")

    d_values = np.arange(1, d_max + 1)
    return {
        "d_values": d_values,
        "widths": np.array([transition_width(int(d)) for d in d_values]),
        "widths_normal": 2 * scipy.stats.norm.ppf(0.9) * np.sqrt(2 / d_values),
    }


def compute_cover_view(d, widths):
    """Compute the d slider's arrays: C(N, d) / 2^N for N = 1..4d, its normal approximation, and ``widths``."""
    d = _checks.positive_int(d, "d")
    if d > len(widths["d_values"]):
        raise ValueError(f"d must be <= {len(widths['d_values'])}, the largest d in widths, got {d}")

    N = np.arange(1, 4 * d + 1)
    N_smooth = np.linspace(2, 4 * d, 200)
    return {
        "d": d,
        "N": N,
        "ratio": cover_ratio(N, d),
        "N_smooth": N_smooth,
        "ratio_normal": cover_ratio_normal(N_smooth, d),
        **widths,
    }


# Exact enumeration of separable dichotomies


def _find_separator(A):
    """Return w with A w >= 1 (so every row of A has a positive product with w), or None if none exists."""
    n, d = A.shape
    result = scipy.optimize.linprog(
        np.zeros(d), A_ub=-A, b_ub=-np.ones(n), bounds=[(None, None)] * d, method="highs"
    )

    if result.status == 2:
        return None
    if result.status != 0:
        raise RuntimeError(f"linprog failed while testing separability: {result.message}")
    return result.x


def is_separable(X, y):
    """Decide whether some w has y_i w.x_i > 0 for every row x_i of X, by a linear program."""
    X = _checks.as_array(X, "X", ndim=2)
    y = _checks.as_array(y, "y", shape=(X.shape[0],))
    if not np.all(np.abs(y) == 1):
        raise ValueError(f"y must contain only -1 and +1, got values {np.unique(y)[:5].tolist()}")

    return _find_separator(y[:, None] * X) is not None


def separable_dichotomies(X):
    """Enumerate every homogeneously separable dichotomy of the rows of X (N, d), exactly.

    Returns (patterns, weights): patterns (m, N) of -1/+1 in lexicographic order, and in the same row of
    weights (m, d) a w with y_i w.x_i > 0. Labels are added one point at a time. A labelling of the first
    k points that no w separates has no separable extension, so it is dropped. The separator of a kept
    labelling settles one sign of the next point, and a linear program decides the other. There are up to
    C(N, d) dichotomies, one linear program each, so keep point sets small.
    """
    X = _checks.as_array(X, "X", ndim=2)
    N, d = X.shape
    if N == 0:
        raise ValueError("X must have at least one row")

    # y and -y are separable together (w and -w), so the search fixes y_0 = +1 and mirrors at the end.
    w0 = _find_separator(X[:1])
    if w0 is None:
        return np.zeros((0, N), dtype=int), np.zeros((0, d))
    frontier = [((1,), w0)]

    for k in range(1, N):
        x = X[k]
        extended = []
        for labels, w in frontier:
            product = x @ w
            clear = abs(product) > 1e-9 * np.linalg.norm(x) * np.linalg.norm(w)
            for sign in (1, -1):
                if clear and sign * product > 0:
                    extended.append((labels + (sign,), w))
                    continue
                A = np.array(labels + (sign,))[:, None] * X[: k + 1]
                separator = _find_separator(A)
                if separator is not None:
                    extended.append((labels + (sign,), separator))
        frontier = extended

    if not frontier:
        return np.zeros((0, N), dtype=int), np.zeros((0, d))
    patterns = np.array([labels for labels, _ in frontier], dtype=int)
    weights = np.array([w for _, w in frontier])
    patterns = np.concatenate([patterns, -patterns])
    weights = np.concatenate([weights, -weights])

    margins = (patterns * (X @ weights.T).T).min(axis=1)
    if not np.all(margins > 0):
        raise RuntimeError("a separator returned by linprog does not separate its dichotomy strictly")

    order = np.lexsort(patterns.T[::-1])
    return patterns[order], weights[order]


def count_regions(X):
    """Count the regions of the hyperplane arrangement {w : x_i.w = 0} by Zaslavsky's theorem.

    For a central arrangement the count is sum over subsets S of the rows of (-1)^(|S| - rank X_S).
    For non-zero rows it equals the number of homogeneously separable dichotomies. Cost 2^N ranks.
    """
    X = _checks.as_array(X, "X", ndim=2)
    N, d = X.shape
    if N > 20:
        raise ValueError(f"X must have at most 20 rows (the sum has 2^N terms), got {N}")
    if np.any(np.linalg.norm(X, axis=1) == 0):
        raise ValueError("X must have non-zero rows: a zero point lies on every hyperplane")

    total = 1
    for size in range(1, N + 1):
        subsets = np.array(list(itertools.combinations(range(N), size)))
        ranks = np.linalg.matrix_rank(X[subsets])
        total += int(np.sum((-1) ** (size - ranks)))
    return total


def in_general_position(X):
    """Decide whether every subset of at most d rows of X (N, d) is linearly independent (binom(N, d) rank checks)."""
    X = _checks.as_array(X, "X", ndim=2)
    N, d = X.shape
    size = min(N, d)

    subsets = np.array(list(itertools.combinations(range(N), size)))
    return bool(np.all(np.linalg.matrix_rank(X[subsets]) == size))


# Growth function, Sauer-Shelah and VC bounds


def _non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def sauer_shelah_bound(N, d_vc):
    """Return the Sauer-Shelah bound on the growth function, sum_{k=0}^{d_vc} binom(N, k), as an exact int."""
    N = _checks.positive_int(N, "N")
    d_vc = _non_negative_int(d_vc, "d_vc")

    # binom(N, k + 1) = binom(N, k) (N - k) / (k + 1) exactly, which is far cheaper than math.comb per term.
    term, total = 1, 1
    for k in range(min(d_vc, N)):
        term = term * (N - k) // (k + 1)
        total += term
    return total


def log_sauer_shelah_bound(N, d_vc):
    """Return ln sum_{k=0}^{d_vc} binom(N, k) in floating point, through log-gamma and log-sum-exp (fast for large N)."""
    N = _checks.positive_int(N, "N")
    d_vc = _non_negative_int(d_vc, "d_vc")

    k = np.arange(min(d_vc, N) + 1)
    log_terms = scipy.special.gammaln(N + 1) - scipy.special.gammaln(k + 1) - scipy.special.gammaln(N - k + 1)
    return float(scipy.special.logsumexp(log_terms))


def _check_vc_arguments(N, d_vc, delta):
    N = _checks.positive_int(N, "N")
    d_vc = _checks.positive_int(d_vc, "d_vc")
    delta = _checks.finite_scalar(delta, "delta", 0, 1)
    if delta == 0:
        raise ValueError("delta must be > 0")
    return N, d_vc, delta


def vc_gap_vapnik(N, d_vc, delta):
    """Return Vapnik's VC confidence sqrt((d_vc (ln(2N/d_vc) + 1) - ln(delta/4)) / N).

    With probability at least 1 - delta, every classifier's error is at most its training error plus
    this gap. Source: Vapnik (1995), as stated by Burges (1998), "A tutorial on support vector
    machines for pattern recognition", eq. (3). Constants: 2N inside the log, +1, and delta/4.
    Returns inf for N < d_vc, where the formula is not meant to apply (the class may shatter the sample).
    """
    N, d_vc, delta = _check_vc_arguments(N, d_vc, delta)

    if N < d_vc:
        return math.inf
    return math.sqrt((d_vc * (math.log(2 * N / d_vc) + 1) - math.log(delta / 4)) / N)


def vc_gap_abu_mostafa(N, d_vc, delta):
    """Return the VC generalisation bound's gap sqrt((8/N) ln(4 m_H(2N) / delta)), with m_H(2N) <= sum_{k<=d_vc} binom(2N, k).

    Source: Abu-Mostafa, Magdon-Ismail and Lin (2012), "Learning from Data", the VC generalisation
    bound. Constants: 8, 4 and the growth function at 2N.
    """
    N, d_vc, delta = _check_vc_arguments(N, d_vc, delta)

    log_growth = log_sauer_shelah_bound(2 * N, d_vc)
    return math.sqrt(8 / N * (math.log(4 / delta) + log_growth))


def vc_gap_shalev_shwartz(N, d_vc, delta):
    """Return the gap (4 + sqrt(ln tau(2N))) / (delta sqrt(2N)), with tau(2N) <= sum_{k<=d_vc} binom(2N, k).

    Source: Shalev-Shwartz and Ben-David (2014), "Understanding Machine Learning", Theorem 6.11
    (a bound on the expected gap, turned into a tail bound by Markov's inequality, hence 1/delta).
    """
    N, d_vc, delta = _check_vc_arguments(N, d_vc, delta)

    log_growth = log_sauer_shelah_bound(2 * N, d_vc)
    return (4 + math.sqrt(log_growth)) / (delta * math.sqrt(2 * N))


VC_GAPS = {
    "Vapnik (Burges 1998, eq. 3)": vc_gap_vapnik,
    "Abu-Mostafa et al. (2012)": vc_gap_abu_mostafa,
    "Shalev-Shwartz, Ben-David (2014, Th. 6.11)": vc_gap_shalev_shwartz,
}


def compute_vc_gaps(N_values, d_vc, delta):
    """Return {bound name: array of gaps over N_values} for the three VC bounds in VC_GAPS."""
    return {name: np.array([gap(int(N), d_vc, delta) for N in N_values]) for name, gap in VC_GAPS.items()}


# The randomisation test: random relu features and kernel interpolation


def draw_feature_weights(features, d0, rng):
    """Draw the fixed first-layer weights W (features, d0) of a random-feature model, W_ij ~ N(0, 1/d0)."""
    features = _checks.positive_int(features, "features")
    d0 = _checks.positive_int(d0, "d0")
    rng = _checks.generator(rng)

    return rng.standard_normal((features, d0)) / np.sqrt(d0)


def relu_features(X, W):
    """Compute random relu features sqrt(2 / features) max(0, X W^T), whose Gram matrix tends to the depth-2 NNGP kernel."""
    X = _checks.as_array(X, "X", ndim=2)
    W = _checks.as_array(W, "W", ndim=2, shape=(None, X.shape[1]))

    return np.sqrt(2 / W.shape[0]) * neurons.relu(X @ W.T)


def min_norm_fit(Phi, Y):
    """Return the minimum-norm least-squares coefficients Phi^+ Y, which interpolate Y when Phi (n, features) has rank n.

    With features >= n and full rank, Phi^+ = Q R^{-T} for Phi^T = Q R, which is cheaper than the SVD
    behind np.linalg.lstsq; otherwise lstsq decides the rank.
    """
    Phi = _checks.as_array(Phi, "Phi", ndim=2)
    Y = _checks.as_array(Y, "Y", shape=(Phi.shape[0],) + np.shape(Y)[1:])
    n, features = Phi.shape

    if features >= n:
        Q, R = np.linalg.qr(Phi.T)
        diagonal = np.abs(np.diag(R))
        if diagonal.min() > n * np.finfo(float).eps * diagonal.max():
            return Q @ scipy.linalg.solve_triangular(R, Y, trans="T")

    coefficients, *_ = np.linalg.lstsq(Phi, Y, rcond=None)
    return coefficients


def kernel_interpolation(K_train, K_cross, Y):
    """Predict K_cross K_train^{-1} Y by kernel interpolation (ridgeless kernel regression)."""
    K_train = _checks.as_array(K_train, "K_train", ndim=2)
    n = K_train.shape[0]
    K_train = _checks.as_array(K_train, "K_train", shape=(n, n))
    K_cross = _checks.as_array(K_cross, "K_cross", ndim=2, shape=(None, n))
    Y = _checks.as_array(Y, "Y", shape=(n,) + np.shape(Y)[1:])

    return K_cross @ scipy.linalg.solve(K_train, Y, assume_a="pos")


def one_hot(labels, n_classes):
    """Return one-hot targets (n, n_classes) for integer labels 0..n_classes-1."""
    labels = np.asarray(labels)
    n_classes = _checks.positive_int(n_classes, "n_classes")
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must be a 1-D array of integers in 0..{n_classes - 1}")

    return np.eye(n_classes)[labels]


def draw_label_noise(n, n_classes, rng):
    """Draw (order, random_labels): the order in which labels get corrupted and the uniform random label each gets."""
    n = _checks.positive_int(n, "n")
    n_classes = _checks.positive_int(n_classes, "n_classes")
    rng = _checks.generator(rng)

    return rng.permutation(n), rng.integers(0, n_classes, size=n)


def noisy_labels(y, noise, order, random_labels):
    """Replace the labels of the first round(noise n) points in ``order`` by their random labels (nested in noise)."""
    y = np.asarray(y)
    noise = _checks.finite_scalar(noise, "noise", 0, 1)

    corrupted = order[: int(round(noise * len(y)))]
    labels = y.copy()
    labels[corrupted] = random_labels[corrupted]
    return labels


def compute_randomisation_table(split, feature_counts, noise_levels, rng, kernel=None, n_random_draws=20):
    """Compute train and test accuracy of min-norm random relu feature models for every feature count and noise level.

    ``split`` = (X_train, y_train, X_test, y_test) with integer labels. ``kernel`` = (K_train, K_test_train),
    if given, adds kernel interpolation as the infinite-feature limit. Test labels always stay true.
    Rows "random_*" hold n_random_draws independent fully random labellings, for a standard error, and
    "max_residual" the largest |fit - target| over all labellings, per feature count.
    """
    X_train, y_train, X_test, y_test = split
    X_train = _checks.as_array(X_train, "X_train", ndim=2)
    X_test = _checks.as_array(X_test, "X_test", ndim=2, shape=(None, X_train.shape[1]))
    feature_counts = np.asarray(feature_counts)
    noise_levels = np.asarray(noise_levels, dtype=float)
    rng = _checks.generator(rng)
    n_random_draws = _checks.positive_int(n_random_draws, "n_random_draws")
    n_classes = int(max(y_train.max(), y_test.max())) + 1

    order, random_labels = draw_label_noise(len(y_train), n_classes, rng)
    train_labels = [noisy_labels(y_train, q, order, random_labels) for q in noise_levels]
    train_labels += [rng.integers(0, n_classes, size=len(y_train)) for _ in range(n_random_draws)]
    Y = np.concatenate([one_hot(labels, n_classes) for labels in train_labels], axis=1)

    targets = np.array(train_labels).T

    def score(scores_train, scores_test):
        """Accuracy of every labelling's block of n_classes score columns, on train and on test."""
        predicted_train = scores_train.reshape(len(y_train), -1, n_classes).argmax(axis=2)
        predicted_test = scores_test.reshape(len(y_test), -1, n_classes).argmax(axis=2)
        return (predicted_train == targets).mean(axis=0), (predicted_test == y_test[:, None]).mean(axis=0)

    # The fit is linear in the targets, so one least-squares solve per feature count serves every labelling.
    W = draw_feature_weights(int(feature_counts.max()), X_train.shape[1], rng)
    Phi_train = relu_features(X_train, W)
    Phi_test = relu_features(X_test, W)
    rows, residuals = [], []
    # One BLAS thread: when other processes share the cores, OpenBLAS threads wait on each other. On a
    # loaded 2-core machine lstsq then ran 10 to 20 times slower than with one thread.
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        for features in feature_counts:
            coefficients = min_norm_fit(Phi_train[:, :features], Y)
            fitted = Phi_train[:, :features] @ coefficients
            residuals.append(np.abs(fitted - Y).max())
            rows.append(score(fitted, Phi_test[:, :features] @ coefficients))
    train_accuracy = np.array([train for train, _ in rows])
    test_accuracy = np.array([test for _, test in rows])

    levels = len(noise_levels)
    table = {
        "feature_counts": feature_counts,
        "noise_levels": noise_levels,
        "n_train": len(y_train),
        "n_test": len(y_test),
        "max_residual": np.array(residuals),
        "train_accuracy": train_accuracy[:, :levels],
        "test_accuracy": test_accuracy[:, :levels],
        "random_train_accuracy": train_accuracy[:, levels:],
        "random_test_accuracy": test_accuracy[:, levels:],
    }

    if kernel is not None:
        K_train, K_test_train = kernel
        K_train = _checks.as_array(K_train, "K_train", shape=(len(y_train), len(y_train)))
        scores_train = K_train @ scipy.linalg.solve(K_train, Y, assume_a="pos")
        kernel_train, kernel_test = score(scores_train, kernel_interpolation(K_train, K_test_train, Y))
        table.update({
            "kernel_train_accuracy": kernel_train[:levels],
            "kernel_test_accuracy": kernel_test[:levels],
            "kernel_random_train_accuracy": kernel_train[levels:],
            "kernel_random_test_accuracy": kernel_test[levels:],
        })
    return table


def digits_randomisation_table(rng, n_train=500, n_random_draws=20):
    """Run the randomisation test on scikit-learn's digits, split at random into n_train training and test digits.

    Inputs are centred by the mean training image, then put in course normalisation. Feature counts run from 10 to 4 n_train on a log grid that
    contains n_train itself. Noise levels are 0, 0.1, ..., 1. The kernel limit is the depth-2 NNGP kernel.
    """
    rng = _checks.generator(rng)
    n_train = _checks.positive_int(n_train, "n_train")

    X, y = data.load_digits()
    order = rng.permutation(len(y))
    train, test = order[:n_train], order[n_train:]
    if len(test) == 0:
        raise ValueError(f"n_train must leave test digits, got {n_train} of {len(y)}")

    # Pixels are non-negative, so without centring some relu features are zero on every digit and
    # the feature matrix has rank below min(features, n_train).
    X = data.normalise_rows(X - X[train].mean(axis=0))

    feature_counts = np.unique(np.concatenate([np.geomspace(10, 4 * n_train, 16).round().astype(int), [n_train]]))
    noise_levels = np.round(np.linspace(0, 1, 11), 10)
    kernel = (kernels.nngp_gram(X[train], 2), kernels.nngp_gram(X[test], 2, X[train]))
    split = (X[train], y[train], X[test], y[test])
    return compute_randomisation_table(split, feature_counts, noise_levels, rng, kernel, n_random_draws)


def compute_randomisation_view(table, features, noise):
    """Select the sliders' view of the table: accuracy against features at this noise, and against noise at these features."""
    i = np.flatnonzero(table["feature_counts"] == features)
    j = np.flatnonzero(np.isclose(table["noise_levels"], noise, rtol=0, atol=1e-9))
    if i.size == 0:
        raise ValueError(f"features must be one of {table['feature_counts'].tolist()}, got {features!r}")
    if j.size == 0:
        raise ValueError(f"noise must be one of {table['noise_levels'].tolist()}, got {noise!r}")
    i, j = int(i[0]), int(j[0])

    view = {
        "features": int(features),
        "noise": float(table["noise_levels"][j]),
        "n_train": table["n_train"],
        "feature_counts": table["feature_counts"],
        "noise_levels": table["noise_levels"],
        "train_by_features": table["train_accuracy"][:, j],
        "test_by_features": table["test_accuracy"][:, j],
        "train_by_noise": table["train_accuracy"][i],
        "test_by_noise": table["test_accuracy"][i],
    }
    if "kernel_test_accuracy" in table:
        view["kernel_test"] = table["kernel_test_accuracy"][j]
        view["kernel_test_by_noise"] = table["kernel_test_accuracy"]
    return view


# Zhang et al.'s two-layer construction


def fit_two_layer_interpolant(X, y, rng, n_directions=16):
    """Fit c(x) = sum_j w_j max(0, a.x - b_j) to any targets y on the n rows of X with 2n + d weights.

    Zhang et al. (2017, Theorem 1): with the projections z_i = a.x_i sorted and b_1 < z_1 < b_2 < ... < b_n < z_n,
    the matrix max(0, z_i - b_j) is lower triangular with a positive diagonal, so w solves a triangular
    system. Returns {"a": (d,), "b": (n,), "w": (n,)} with b and w in the order of increasing z.
    """
    X = _checks.as_array(X, "X", ndim=2)
    n, d = X.shape
    y = _checks.as_array(y, "y", shape=(n,))
    rng = _checks.generator(rng)
    n_directions = _checks.positive_int(n_directions, "n_directions")

    # Rounding error in c grows like range(z) / min gap(z), so keep the best of a few random directions.
    candidates = rng.standard_normal((d, n_directions))
    projections = np.sort(X @ candidates, axis=0)
    spread = np.ptp(projections, axis=0)
    min_gaps = np.diff(projections, axis=0).min(axis=0) if n > 1 else spread + 1
    if np.all(min_gaps <= 1e-12 * np.maximum(spread, 1.0)):
        raise ValueError("X must have distinct rows, but two rows project to the same a.x. Remove duplicate rows")
    a = candidates[:, np.argmax(min_gaps / np.maximum(spread, 1e-300))]

    z = X @ a
    order = np.argsort(z)
    z_sorted = z[order]
    gaps = np.diff(z_sorted) if n > 1 else np.ones(1)

    # Each b_j sits a tenth of a gap above the previous projection: then the slopes of c stay near
    # (y_(j+1) - y_j) / gap_j, whereas midpoints make them alternate in sign and grow.
    b_sorted = np.concatenate([[z_sorted[0] - 0.9 * gaps.min()], z_sorted[:-1] + 0.1 * gaps[: n - 1]])

    A = np.maximum(z_sorted[:, None] - b_sorted[None, :], 0)
    w_sorted = scipy.linalg.solve_triangular(A, y[order], lower=True)
    return {"a": a, "b": b_sorted, "w": w_sorted}


def two_layer_predict(params, X):
    """Evaluate c(x) = sum_j w_j max(0, a.x - b_j) on the rows of X."""
    X = _checks.as_array(X, "X", ndim=2, shape=(None, params["a"].shape[0]))

    return np.maximum(X @ params["a"][:, None] - params["b"][None, :], 0) @ params["w"]


def count_weights(params):
    """Count the scalar weights in a parameter dict or a list of arrays."""
    arrays = params.values() if isinstance(params, dict) else params
    return int(sum(np.size(array) for array in arrays))
