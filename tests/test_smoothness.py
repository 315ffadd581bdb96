"""Smoothness estimates and deep relative trust against homogeneity, Hessian finite differences and direct products."""

import numpy as np
import pytest

from lib import mlp, smoothness, training


def problem(seed, widths=(6, 8, 8, 8, 3), n=10):
    rng = np.random.default_rng(seed)
    W = mlp.init_weights(list(widths), rng)
    return W, rng.standard_normal((n, widths[0])), rng.standard_normal((n, widths[-1])), rng


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("c", [0.5, 0.9, 1.7])
def test_secant_slope_homogeneous_zero_targets(seed, c):
    W, X, _, rng = problem(seed)
    Y = np.zeros((X.shape[0], W[-1].shape[0]))
    dW = smoothness.relative_direction(W, [rng.standard_normal(w.shape) for w in W], 1e-3)
    base = smoothness.gradient_secant_slope(W, X, Y, dW)
    scaled = smoothness.gradient_secant_slope([c * w for w in W], X, Y, [c * d for d in dW])
    assert scaled == pytest.approx(base * c ** (2 * len(W) - 2), rel=1e-9)


def test_secant_slope_matches_hessian_product():
    W, X, Y, rng = problem(3)
    V = [rng.standard_normal(w.shape) for w in W]
    h = 1e-6
    slope = smoothness.gradient_secant_slope(W, X, Y, [h * v for v in V])

    # An independent Hessian-vector product: second differences of the loss along V and along unit vectors.
    flat = np.concatenate([v.ravel() for v in V])
    sizes = np.cumsum([0] + [w.size for w in W])

    def loss_at(vector):
        moved = [w + vector[a:b].reshape(w.shape) for w, a, b in zip(W, sizes[:-1], sizes[1:])]
        return training.mean_loss_and_gradient(moved, X, Y)[0]

    step = 1e-4
    hessian_v = np.empty(flat.size)
    for i in range(flat.size):
        e = np.zeros(flat.size)
        e[i] = step
        hessian_v[i] = (loss_at(e + step * flat) - loss_at(e - step * flat) - loss_at(-e + step * flat)
                        + loss_at(-e - step * flat)) / (4 * step * step)
    assert slope == pytest.approx(np.linalg.norm(hessian_v) / np.linalg.norm(flat), rel=1e-4)


def test_relative_direction_has_exact_size():
    W, _, _, rng = problem(4)
    dW = smoothness.relative_direction(W, [rng.standard_normal(w.shape) for w in W], 0.03)
    for w, d in zip(W, dW):
        assert np.linalg.norm(d) / np.linalg.norm(w) == pytest.approx(0.03, rel=1e-13)


def test_deep_relative_trust_product():
    W, _, _, rng = problem(5)
    dW = [rng.uniform(0.01, 0.3) * rng.standard_normal(w.shape) for w in W]
    ratios = [np.linalg.norm(d) / np.linalg.norm(w) for w, d in zip(W, dW)]
    expected = (1 + ratios[0]) * (1 + ratios[1]) * (1 + ratios[2]) * (1 + ratios[3]) - 1
    assert smoothness.deep_relative_trust(W, dW) == pytest.approx(expected, rel=1e-13)


def test_relative_gradient_change_small_for_small_steps():
    W, X, Y, rng = problem(6)
    dW = smoothness.relative_direction(W, [rng.standard_normal(w.shape) for w in W], 1e-7)
    change = smoothness.relative_gradient_change(W, X, Y, dW)
    assert change.shape == (len(W),)
    assert np.all(change < 1e-4)
    np.testing.assert_array_equal(smoothness.relative_gradient_change(W, X, Y, [0 * w for w in W]), 0.0)


def test_compute_smoothness_scaling_exact_law():
    W, X, Y, rng = problem(7)
    result = smoothness.compute_smoothness_scaling(W, X, Y, np.array([0.8, 1.0, 1.3]), rng)
    np.testing.assert_allclose(result["slopes_zero_target"], result["predicted_zero_target"], rtol=1e-9)
    norms = np.prod([np.linalg.norm(w) for w in W])
    np.testing.assert_allclose(result["norm_products"], norms * np.array([0.8, 1.0, 1.3]) ** 4, rtol=1e-13)


def test_compute_relative_trust_shapes():
    W, X, Y, rng = problem(8)
    result = smoothness.compute_relative_trust(W, X, Y, np.array([1e-3, 1e-2]), rng)
    np.testing.assert_allclose(result["deep_relative_trust"], (1 + np.array([1e-3, 1e-2])) ** 4 - 1, rtol=1e-12)
    assert result["random"].shape == result["gradient"].shape == (2,)


def test_smoothness_rejects_bad_arguments():
    W, X, Y, rng = problem(9)
    with pytest.raises(ValueError, match="dW"):
        smoothness.gradient_secant_slope(W, X, Y, W[:-1])
    with pytest.raises(ValueError, match="scales"):
        smoothness.compute_smoothness_scaling(W, X, Y, np.array([1.0, -1.0]), rng)
    with pytest.raises(ValueError, match="rng"):
        smoothness.compute_relative_trust(W, X, Y, np.array([0.1]), 0)
