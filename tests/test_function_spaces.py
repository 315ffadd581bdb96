"""Lecture 2's computations: relu interpolation, kurtosis, inputs, slider studies and digit regression."""

import matplotlib.figure
import numpy as np
import pytest
import sympy
from sklearn.kernel_ridge import KernelRidge

from lib import function_space_plots, function_spaces, kernels


def test_relu_interpolant_hits_knots():
    rng = np.random.default_rng(1)
    for n_units in (1, 2, 7, 30):
        knots = np.sort(rng.uniform(-2, 3, n_units + 1))
        values = rng.standard_normal(n_units + 1)
        a, b = function_spaces.relu_interpolant(knots, values)

        assert a.shape == (n_units,)
        np.testing.assert_allclose(function_spaces.relu_network_1d(knots, knots, a, b), values, rtol=1e-12, atol=1e-12)
        grid = np.linspace(knots[0], knots[-1], 501)
        np.testing.assert_allclose(function_spaces.relu_network_1d(grid, knots, a, b), np.interp(grid, knots, values),
                                   rtol=1e-10, atol=1e-10)


def test_relu_interpolant_rejects_unsorted_knots():
    with pytest.raises(ValueError, match="strictly increasing"):
        function_spaces.relu_interpolant([0.0, 0.5, 0.5], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="values must have shape"):
        function_spaces.relu_interpolant([0.0, 1.0], [1.0])


def test_interpolation_error_within_bound():
    result = function_spaces.compute_interpolation(12)

    assert np.all(result["sup_errors"] <= result["bound"])
    np.testing.assert_allclose(result["network"], np.interp(result["grid"], result["knots"], result["values"]),
                               rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="n_units"):
        function_spaces.compute_interpolation(0)


def test_target_curvature_bound():
    x = sympy.symbols("x")
    second = sympy.diff(sympy.sin(2 * sympy.pi * x) + sympy.sin(6 * sympy.pi * x) / 2, x, 2)
    grid = np.linspace(0, 1, 20001)

    assert np.max(np.abs(sympy.lambdify(x, second, "numpy")(grid))) <= function_spaces.TARGET_CURVATURE_BOUND


def test_relu_square_variance_by_sympy():
    z = sympy.symbols("z", real=True)
    density = sympy.exp(-z**2 / 2) / sympy.sqrt(2 * sympy.pi)
    # phi(z)^2 = 2 z^2 for z > 0 and 0 otherwise.
    second = sympy.integrate(2 * z**2 * density, (z, 0, sympy.oo))
    fourth = sympy.integrate(4 * z**4 * density, (z, 0, sympy.oo))

    assert second == 1
    assert fourth == 6
    assert float(fourth - second**2) == function_spaces.RELU_SQUARE_VARIANCE


def test_output_kurtosis_special_cases():
    assert function_spaces.output_excess_kurtosis([5, 1]) == 0.0
    assert function_spaces.output_excess_kurtosis([5, 4, 4, 1]) == pytest.approx(3 * (81 / 16 - 1), rel=1e-15)
    assert function_spaces.output_excess_kurtosis([5, 10**9, 1]) < 1e-7


def test_excess_kurtosis_estimates():
    rng = np.random.default_rng(2)
    gaussian, laplace = rng.standard_normal(200_000), rng.laplace(size=200_000)

    for samples, exact in ((gaussian, 0.0), (laplace, 3.0)):
        kappa, se = function_spaces.excess_kurtosis(samples)
        assert abs(kappa - exact) <= 4 * se, f"kappa {kappa}, exact {exact}, SE {se}"


def test_excess_kurtosis_standard_error():
    # The delta-method SE should match the spread of the estimate over independent batches of 4000.
    rng = np.random.default_rng(3)

    for batches in (rng.standard_normal((4000, 500)), rng.logistic(size=(4000, 500))):
        kappa, se = function_spaces.excess_kurtosis(batches)
        assert np.std(kappa) == pytest.approx(np.mean(se), rel=0.1)
    assert np.mean(function_spaces.excess_kurtosis(rng.standard_normal((4000, 50)))[1]) == pytest.approx(
        np.sqrt(24 / 4000), rel=0.05)


def test_second_moments_and_coverage():
    rng = np.random.default_rng(4)
    K = np.array([[1.0, 0.8], [0.8, 2.0]])
    samples = rng.standard_normal((100_000, 2)) @ np.linalg.cholesky(K).T

    M, se = function_spaces.second_moments(samples)
    assert np.all(np.abs(M - K) <= 4 * se)
    coverage = function_spaces.ellipse_coverage(samples, K)
    assert abs(coverage - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / len(samples))


def test_noisy_inputs_are_normalised():
    rng = np.random.default_rng(5)
    digit = function_spaces.digit_with_noisy_copies(rng)
    image = function_spaces.image_with_noisy_copies(rng)

    assert digit.shape == (4, 64)
    assert image.shape == (4, 3072)
    for X in (digit, image):
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), np.sqrt(X.shape[1]), rtol=1e-12)
        overlaps = (X @ X.T / X.shape[1])[0]
        assert np.all(np.diff(overlaps) < 0), "more noise must lower the overlap with the clean input"
    copies = function_spaces.noisy_copies(np.full(10, 0.5), [0.0, 10.0], rng)
    assert np.array_equal(copies[1], np.full(10, 0.5))
    assert copies.min() >= 0.0
    assert copies.max() <= 1.0


def test_correlation_decay_asymptote():
    depths, gaps = function_spaces.correlation_decay(np.array([-1.0, 0.0, 0.9]), 10_000)

    assert gaps.shape == (10_000, 3)
    np.testing.assert_allclose(gaps[0], [2.0, 1.0, 0.1], rtol=1e-12)
    assert np.all(np.diff(gaps, axis=0) < 0)
    ratio = gaps[-1] * depths[-1] ** 2 / function_spaces.CORRELATION_DECAY_CONSTANT
    np.testing.assert_allclose(ratio, 1.0, rtol=0.01)


def test_monte_carlo_h_agrees():
    t = np.array([-0.9, 0.0, 0.6, 1.0])
    h_mean, h_se, slope_mean, slope_se = function_spaces.monte_carlo_h(t, 100_000, np.random.default_rng(6))

    assert np.all(np.abs(h_mean - kernels.h(t)) <= 4 * h_se)
    assert np.all(np.abs(slope_mean - kernels.h_prime(t)) <= 4 * slope_se)


def test_width_study_and_panel():
    rng = np.random.default_rng(7)
    X = function_spaces.digit_with_noisy_copies(rng)
    study = function_spaces.compute_width_study(X, 3, 300, 3000, rng, widths=(4, 64))

    assert study["samples"][4].shape == (300, 4)
    assert np.all(np.abs(study["kurtosis"] - study["kurtosis_theory"]) <= 4 * study["kurtosis_se"])
    panel = function_spaces.compute_width_panel(study, 64)
    assert panel["coverage"].shape == (3,)
    assert isinstance(function_space_plots.plot_width_panel(panel), matplotlib.figure.Figure)
    with pytest.raises(ValueError, match="width must be one of"):
        function_spaces.compute_width_panel(study, 5)


def test_depth_study_and_panel():
    study = function_spaces.compute_depth_study(64, 5, 24, 6, np.random.default_rng(8))

    panel = function_spaces.compute_depth_panel(study, 3)
    assert panel["gp_draws"].shape == (24, 6)
    assert panel["network_draws"].shape == (24, 6)
    np.testing.assert_allclose(panel["kernel"], kernels.h_depth(np.cos(panel["angle"]), 3), rtol=1e-12)
    assert panel["correlation"][0] == pytest.approx(1.0, rel=1e-12)
    assert isinstance(function_space_plots.plot_depth_panel(panel), matplotlib.figure.Figure)
    with pytest.raises(ValueError, match="max_depth"):
        function_spaces.compute_depth_panel(study, 6)


def test_digit_regression_routes_agree():
    rng = np.random.default_rng(9)
    X_train, y_train, X_test, y_test = function_spaces.split_digits(80, 40, rng)
    Y_train = function_spaces.one_hot_targets(y_train)
    depths, evidence, accuracy = function_spaces.compute_depth_evidence(X_train, Y_train, X_test, y_test, 4, 0.05)

    for L in depths:
        mean, lml = function_spaces.nngp_regression(X_train, Y_train, X_test, L, 0.05)
        assert lml == pytest.approx(evidence[L - 1], rel=1e-10)
        assert np.mean(mean.argmax(axis=1) == y_test) == accuracy[L - 1]
        ridge = KernelRidge(alpha=0.05, kernel="precomputed").fit(kernels.nngp_gram(X_train, L), Y_train)
        np.testing.assert_allclose(mean, ridge.predict(kernels.nngp_gram(X_test, L, X_train)), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(Y_train.sum(axis=1), 0.0, atol=1e-12)


def test_finite_width_regression_approaches_nngp():
    rng = np.random.default_rng(10)
    X_train, y_train, X_test, _ = function_spaces.split_digits(60, 30, rng)
    Y_train = function_spaces.one_hot_targets(y_train)
    nngp, _ = function_spaces.nngp_regression(X_train, Y_train, X_test, 3, 0.05)

    distance = [np.linalg.norm(function_spaces.finite_width_regression(X_train, Y_train, X_test, 3, width, 0.05, rng) - nngp)
                for width in (8, 2048)]
    assert distance[1] < 0.5 * distance[0]


def test_lecture_plots_return_figures():
    rng = np.random.default_rng(11)
    K = np.array([[1.0, 0.5], [0.5, 1.0]])
    t = np.array([-0.5, 0.5])
    figures = [
        function_space_plots.plot_interpolation(function_spaces.compute_interpolation(5)),
        function_space_plots.plot_linear_gp(rng.standard_normal((50, 2)), K, ("y(x)", "y(x')")),
        function_space_plots.plot_h_check(t, function_spaces.monte_carlo_h(t, 1000, rng)),
        function_space_plots.plot_correlation_decay(np.arange(1, 11), {0.0: np.linspace(1, 0.1, 10)}, np.ones(10)),
        function_space_plots.plot_sampler_check(rng.standard_normal(100), rng.standard_normal(100), 4, 12.2),
        function_space_plots.plot_digit_regression([1, 2], [1.0, 2.0], [0.8, 0.9], [16, 64], np.array([0.5, 0.2]),
                                                   [0.7, 0.9], 0.95),
    ]
    for figure in figures:
        assert isinstance(figure, matplotlib.figure.Figure)
        matplotlib.pyplot.close(figure)
