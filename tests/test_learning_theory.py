"""Tests for lib.learning_theory: Cover's count, exact enumeration, VC bounds, interpolation."""

import itertools
import math
from fractions import Fraction

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import sympy

from lib import data, kernels
from lib import learning_theory as lt
from lib import learning_theory_plots as ltp


def gaussian_points(N, d, seed):
    return np.random.default_rng(seed).standard_normal((N, d))


# Cover's count


@pytest.mark.parametrize("N", range(1, 8))
@pytest.mark.parametrize("d", range(1, 5))
def test_cover_count_matches_enumeration(N, d):
    X = gaussian_points(N, d, seed=100 * N + d)
    assert lt.in_general_position(X)

    patterns, _ = lt.separable_dichotomies(X)

    assert len(patterns) == lt.cover_count(N, d)
    assert lt.count_regions(X) == lt.cover_count(N, d)


def test_cover_count_exact_int():
    value = lt.cover_count(200, 60)

    assert isinstance(value, int)
    assert value == 2 * sum(math.comb(199, k) for k in range(60))


def test_cover_count_all_dichotomies_small_N():
    for d in range(1, 30):
        for N in range(1, d + 1):
            assert lt.cover_count(N, d) == 2**N, (N, d)


def test_cover_count_half_at_twice_d():
    for d in range(1, 60):
        assert lt.cover_count(2 * d, d) == 2 ** (2 * d - 1), d


def test_cover_count_recursion():
    for N in range(1, 60):
        for d in range(2, 30):
            assert lt.cover_count(N + 1, d) == lt.cover_count(N, d) + lt.cover_count(N, d - 1), (N, d)


def test_cover_table_matches_closed_form():
    table = lt.cover_table(80, 25)

    for N, d in itertools.product(range(1, 81), range(1, 26)):
        assert table[N - 1][d - 1] == lt.cover_count(N, d), (N, d)


def test_cover_ratio_matches_exact_fraction():
    for N, d in itertools.product(range(1, 301, 7), range(1, 80, 3)):
        exact = Fraction(lt.cover_count(N, d), 2**N)
        assert lt.cover_ratio(N, d) == pytest.approx(float(exact), rel=1e-12, abs=0), (N, d)


def test_cover_ratio_normal_at_twice_d():
    for d in (1, 5, 50):
        assert lt.cover_ratio_normal(2 * d, d) == 0.5
        assert lt.cover_ratio(2 * d, d) == pytest.approx(0.5, rel=1e-14)


def test_transition_width_shrinks_like_root_d():
    widths = lt.compute_transition_widths(100)
    d = widths["d_values"][19:]

    slope = np.polyfit(np.log(d), np.log(widths["widths"][19:]), 1)[0]

    assert abs(slope + 0.5) < 0.05
    assert widths["widths"][-1] == pytest.approx(widths["widths_normal"][-1], rel=0.02)


# Exact enumeration


def test_enumeration_matches_brute_force():
    X = gaussian_points(6, 3, seed=7)
    patterns, _ = lt.separable_dichotomies(X)
    found = {tuple(row) for row in patterns}

    for labels in itertools.product((-1, 1), repeat=6):
        assert (labels in found) == lt.is_separable(X, np.array(labels, dtype=float)), labels


def test_enumeration_separators_are_strict():
    X = gaussian_points(7, 3, seed=8)
    patterns, weights = lt.separable_dichotomies(X)

    margins = patterns * (X @ weights.T).T

    assert np.all(margins > 0)
    assert len({tuple(row) for row in patterns}) == len(patterns)


def test_degenerate_set_has_fewer_dichotomies():
    X = gaussian_points(6, 3, seed=9)
    X[2] = X[0] + X[1]
    X[5] = 2 * X[3] - X[4]
    assert not lt.in_general_position(X)

    patterns, _ = lt.separable_dichotomies(X)

    assert len(patterns) < lt.cover_count(6, 3)
    assert len(patterns) == lt.count_regions(X)


def test_parallel_points_in_plane():
    X = gaussian_points(4, 2, seed=10)
    X[1] = -3 * X[0]

    patterns, _ = lt.separable_dichotomies(X)

    assert len(patterns) == lt.cover_count(3, 2) == lt.count_regions(X)
    assert np.all(patterns[:, 1] == -patterns[:, 0])


def test_zero_point_has_no_dichotomies():
    X = np.array([[0.0, 0.0], [1.0, 2.0]])

    patterns, weights = lt.separable_dichotomies(X)

    assert patterns.shape == (0, 2)
    assert weights.shape == (0, 2)


def test_zero_point_later_has_no_dichotomies():
    X = np.array([[1.0, 2.0], [0.0, 0.0], [2.0, -1.0]])

    patterns, _ = lt.separable_dichotomies(X)

    assert patterns.shape == (0, 3)


def test_affine_separators_miss_xor():
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    lifted = np.hstack([corners, np.ones((4, 1))])

    patterns, _ = lt.separable_dichotomies(lifted)
    found = {tuple(row) for row in patterns}

    assert len(patterns) == lt.cover_count(4, 3) == 14
    assert (1, -1, -1, 1) not in found
    assert (-1, 1, 1, -1) not in found


# Growth function and VC bounds


def test_sauer_shelah_bound_holds():
    for N, d in itertools.product(range(1, 60), range(1, 20)):
        bound = lt.sauer_shelah_bound(N, d)
        assert bound == sum(math.comb(N, k) for k in range(d + 1)), (N, d)
        assert lt.cover_count(N, d) <= bound
        assert bound - lt.cover_count(N, d) == math.comb(N - 1, d), (N, d)
        if N >= d:
            assert bound <= (math.e * N / d) ** d * (1 + 1e-12), (N, d)


def test_sauer_shelah_bound_on_enumerated_sets():
    for seed, (N, d) in enumerate(itertools.product(range(2, 8), range(1, 4))):
        X = gaussian_points(N, d, seed=1000 + seed)
        if N >= 3:
            X[-1] = X[0] + X[-2]
        patterns, _ = lt.separable_dichotomies(X)
        assert len(patterns) <= lt.sauer_shelah_bound(N, d), (N, d)


@pytest.mark.parametrize("N, d_vc, delta", [(100, 3, 0.05), (500, 64, 0.05), (10_000, 64, 0.01), (2000, 2000, 0.1)])
def test_vc_gaps_match_independent_evaluation(N, d_vc, delta):
    n, h, eta = sympy.Rational(N), sympy.Rational(d_vc), sympy.Rational(delta).limit_denominator(1000)
    vapnik = sympy.sqrt((h * (sympy.log(2 * n / h) + 1) - sympy.log(eta / 4)) / n)
    log_growth = math.log(lt.sauer_shelah_bound(2 * N, d_vc))

    assert lt.log_sauer_shelah_bound(2 * N, d_vc) == pytest.approx(log_growth, rel=1e-12)
    assert lt.vc_gap_vapnik(N, d_vc, delta) == pytest.approx(float(vapnik), rel=1e-12)
    assert lt.vc_gap_abu_mostafa(N, d_vc, delta) == pytest.approx(
        math.sqrt(8 / N * (math.log(4 / delta) + log_growth)), rel=1e-12)
    assert lt.vc_gap_shalev_shwartz(N, d_vc, delta) == pytest.approx(
        (4 + math.sqrt(log_growth)) / (delta * math.sqrt(2 * N)), rel=1e-12)


def test_vapnik_gap_infinite_below_d_vc():
    assert lt.vc_gap_vapnik(100, 2000, 0.05) == math.inf


def test_vc_gaps_shrink_with_N():
    for gap in lt.VC_GAPS.values():
        values = [gap(N, 10, 0.05) for N in (100, 1000, 10_000, 100_000)]
        assert all(a > b for a, b in zip(values, values[1:])), gap.__name__


# Random features, kernel interpolation, label noise


def test_relu_feature_gram_tends_to_nngp_kernel():
    rng = np.random.default_rng(11)
    X = data.normalise_rows(rng.standard_normal((5, 8)))
    features = 200_000
    W = lt.draw_feature_weights(features, 8, rng)

    Phi = lt.relu_features(X, W)
    terms = features * Phi[:, None, :] * Phi[None, :, :]
    standard_error = terms.std(axis=2) / np.sqrt(features)

    assert np.all(np.abs(terms.mean(axis=2) - kernels.nngp_gram(X, 2)) < 5 * standard_error)


@pytest.mark.parametrize("features", [40, 60, 200])
def test_random_features_interpolate_above_threshold(features):
    rng = np.random.default_rng(12)
    X = data.normalise_rows(rng.standard_normal((40, 10)))
    Y = lt.one_hot(rng.integers(0, 3, size=40), 3)
    W = lt.draw_feature_weights(features, 10, rng)

    Phi = lt.relu_features(X, W)
    residual = Phi @ lt.min_norm_fit(Phi, Y) - Y

    assert np.abs(residual).max() < 1e-8


@pytest.mark.parametrize("n, features", [(30, 30), (30, 90), (30, 10)])
def test_min_norm_fit_matches_pseudo_inverse(n, features):
    rng = np.random.default_rng(22)
    Phi = rng.standard_normal((n, features))
    Y = rng.standard_normal((n, 4))

    coefficients = lt.min_norm_fit(Phi, Y)

    assert np.allclose(coefficients, np.linalg.pinv(Phi) @ Y, rtol=0, atol=1e-9)


def test_min_norm_fit_rank_deficient_features():
    rng = np.random.default_rng(23)
    Phi = rng.standard_normal((20, 40))
    Phi[:, 20:] = 0
    Phi[:, 19] = Phi[:, 18]
    Y = rng.standard_normal((20, 2))

    coefficients = lt.min_norm_fit(Phi, Y)

    assert np.allclose(coefficients, np.linalg.pinv(Phi) @ Y, rtol=0, atol=1e-9)


def test_random_features_below_threshold_do_not_interpolate():
    rng = np.random.default_rng(13)
    X = data.normalise_rows(rng.standard_normal((40, 10)))
    Y = lt.one_hot(rng.integers(0, 3, size=40), 3)
    W = lt.draw_feature_weights(20, 10, rng)

    Phi = lt.relu_features(X, W)
    residual = Phi @ lt.min_norm_fit(Phi, Y) - Y

    assert np.abs(residual).max() > 0.1


def test_kernel_interpolation_fits_training_targets():
    rng = np.random.default_rng(14)
    X = rng.standard_normal((30, 6))
    Y = rng.standard_normal((30, 2))
    K = kernels.nngp_gram(X, 2)

    fitted = lt.kernel_interpolation(K, K, Y)

    assert np.allclose(fitted, Y, rtol=0, atol=1e-8)


def test_noisy_labels_are_nested():
    rng = np.random.default_rng(15)
    y = rng.integers(0, 10, size=200)
    order, random_labels = lt.draw_label_noise(200, 10, rng)

    previous = np.zeros(200, dtype=bool)
    for noise in np.linspace(0, 1, 11):
        labels = lt.noisy_labels(y, noise, order, random_labels)
        changed = np.zeros(200, dtype=bool)
        changed[order[: int(round(noise * 200))]] = True
        assert np.all(labels[~changed] == y[~changed])
        assert np.all(labels[changed] == random_labels[changed])
        assert np.all(changed >= previous)
        previous = changed


def test_randomisation_table_interpolates_at_threshold():
    rng = np.random.default_rng(16)
    X, y = data.load_digits(classes=(0, 1, 2))
    X = data.normalise_rows(X)
    split = (X[:60], y[:60], X[60:200], y[60:200])
    K = (kernels.nngp_gram(X[:60], 2), kernels.nngp_gram(X[60:200], 2, X[:60]))

    table = lt.compute_randomisation_table(split, [10, 120, 240], [0.0, 0.5, 1.0], rng, kernel=K, n_random_draws=3)

    assert np.all(table["train_accuracy"][1:] == 1)
    assert np.all(table["random_train_accuracy"][1:] == 1)
    assert np.all(table["kernel_train_accuracy"] == 1)
    assert table["train_accuracy"][0, 2] < 1
    assert table["test_accuracy"][2, 0] > 0.7
    assert table["random_test_accuracy"].shape == (3, 3)


def test_digits_randomisation_threshold_at_n():
    table = lt.digits_randomisation_table(np.random.default_rng(24), n_train=100, n_random_draws=3)
    above = table["feature_counts"] >= 100

    assert 100 in table["feature_counts"]
    assert table["n_train"] + table["n_test"] == 1797
    assert np.all(table["max_residual"][above] < 1e-8)
    assert np.all(table["max_residual"][~above] > 0.1)
    assert np.all(table["train_accuracy"][above] == 1)


def test_randomisation_view_selects_grid_point():
    table = {
        "feature_counts": np.array([10, 20]),
        "noise_levels": np.array([0.0, 0.5]),
        "n_train": 15,
        "train_accuracy": np.array([[0.9, 0.8], [1.0, 1.0]]),
        "test_accuracy": np.array([[0.7, 0.6], [0.8, 0.5]]),
    }

    view = lt.compute_randomisation_view(table, 20, 0.5)

    assert view["test_by_features"].tolist() == [0.6, 0.5]
    assert view["test_by_noise"].tolist() == [0.8, 0.5]
    with pytest.raises(ValueError, match="features"):
        lt.compute_randomisation_view(table, 15, 0.5)
    with pytest.raises(ValueError, match="noise"):
        lt.compute_randomisation_view(table, 20, 0.25)


# Zhang et al.'s construction


@pytest.mark.parametrize("n, d", [(1, 3), (2, 1), (10, 2), (100, 10), (300, 64)])
def test_two_layer_construction_fits_any_labels(n, d):
    rng = np.random.default_rng(17)
    X = rng.standard_normal((n, d))
    y = rng.choice([-1.0, 1.0], size=n) * rng.uniform(0.5, 2, size=n)

    params = lt.fit_two_layer_interpolant(X, y, rng)

    assert np.abs(lt.two_layer_predict(params, X) - y).max() < 1e-9
    assert lt.count_weights(params) == 2 * n + d


def test_two_layer_construction_on_digits():
    rng = np.random.default_rng(18)
    X, _ = data.load_digits()
    X = np.unique(X, axis=0)[rng.choice(1797, 300, replace=False)]
    y = rng.integers(0, 10, size=300).astype(float)

    params = lt.fit_two_layer_interpolant(X, y, rng)

    assert np.abs(lt.two_layer_predict(params, X) - y).max() < 1e-9
    assert lt.count_weights(params) == 2 * 300 + 64


def test_two_layer_matrix_is_lower_triangular():
    rng = np.random.default_rng(19)
    X = rng.standard_normal((20, 4))
    params = lt.fit_two_layer_interpolant(X, rng.standard_normal(20), rng)

    z = np.sort(X @ params["a"])
    A = np.maximum(z[:, None] - params["b"][None, :], 0)

    assert np.all(np.triu(A, 1) == 0)
    assert np.all(np.diag(A) > 0)


def test_two_layer_rejects_duplicate_rows():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]])

    with pytest.raises(ValueError, match="distinct rows"):
        lt.fit_two_layer_interpolant(X, np.zeros(3), np.random.default_rng(0))


# Arguments and figures


def test_bad_arguments_raise():
    rng = np.random.default_rng(0)
    cases = [
        (lambda: lt.cover_count(0, 3), "N"),
        (lambda: lt.cover_count(3, 0), "d"),
        (lambda: lt.cover_count(2.5, 3), "N"),
        (lambda: lt.cover_table(3, 0), "d_max"),
        (lambda: lt.cover_ratio(0, 2), "N and d"),
        (lambda: lt.cover_ratio_normal(1, 2), "N"),
        (lambda: lt.separable_dichotomies(np.ones(3)), "X"),
        (lambda: lt.separable_dichotomies(np.array([[np.nan, 1.0]])), "X"),
        (lambda: lt.is_separable(np.eye(2), np.array([1.0, 0.0])), "y"),
        (lambda: lt.count_regions(np.zeros((2, 2))), "non-zero"),
        (lambda: lt.count_regions(np.ones((21, 2))), "20 rows"),
        (lambda: lt.sauer_shelah_bound(5, -1), "d_vc"),
        (lambda: lt.log_sauer_shelah_bound(0, 3), "N"),
        (lambda: lt.vc_gap_vapnik(100, 3, 0.0), "delta"),
        (lambda: lt.vc_gap_abu_mostafa(100, 0, 0.05), "d_vc"),
        (lambda: lt.vc_gap_shalev_shwartz(0, 3, 0.05), "N"),
        (lambda: lt.draw_feature_weights(10, 5, 0), "rng"),
        (lambda: lt.relu_features(np.ones((3, 4)), np.ones((5, 3))), "W"),
        (lambda: lt.min_norm_fit(np.ones((3, 4)), np.ones((2, 1))), "Y"),
        (lambda: lt.one_hot(np.array([0, 3]), 3), "labels"),
        (lambda: lt.noisy_labels(np.zeros(4, dtype=int), 1.5, np.arange(4), np.zeros(4, dtype=int)), "noise"),
        (lambda: lt.fit_two_layer_interpolant(np.ones((3, 2)), np.ones(4), rng), "y"),
        (lambda: lt.compute_cover_view(101, lt.compute_transition_widths(100)), "d"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=name):
            call()


def test_plots_return_figures():
    X = gaussian_points(4, 2, seed=20)
    patterns, weights = lt.separable_dichotomies(X)
    widths = lt.compute_transition_widths(10)
    rng = np.random.default_rng(21)
    params = lt.fit_two_layer_interpolant(X, np.arange(4.0), rng)
    z = X @ params["a"]
    view = {
        "features": 20, "noise": 0.5, "n_train": 15, "feature_counts": np.array([10, 20]),
        "noise_levels": np.array([0.0, 0.5]), "train_by_features": np.ones(2), "test_by_features": np.ones(2),
        "train_by_noise": np.ones(2), "test_by_noise": np.ones(2), "kernel_test": 0.9,
        "kernel_test_by_noise": np.ones(2),
    }
    N = np.arange(1, 10)

    figures = [
        ltp.plot_dichotomies(X, patterns, weights),
        ltp.plot_cover_check(N, [1, 2], np.ones((9, 2)), np.ones((9, 2)), degenerate=(6, 30, 32, 3)),
        ltp.plot_cover_ratio(lt.compute_cover_view(5, widths)),
        ltp.plot_growth(N, 3, N, N, N),
        ltp.plot_vc_gaps(N, {3: lt.compute_vc_gaps(N, 3, 0.05)}, 5, 0.05),
        ltp.plot_randomisation(view),
        ltp.plot_two_layer_fit(z, np.arange(4.0), np.sort(z), np.sort(z), np.zeros(4)),
    ]

    for figure in figures:
        assert isinstance(figure, plt.Figure)
        plt.close(figure)
