"""The relu MLP: initialisation statistics and backprop against finite differences."""

import numpy as np
import pytest

from lib import mlp


@pytest.mark.parametrize("widths,alpha", [([3, 4, 4, 4, 1], np.sqrt(2)), ([5, 8, 2], 1.0), ([2, 3, 3, 3, 3, 2], 1.7)])
def test_backward_matches_finite_differences(widths, alpha):
    rng = np.random.default_rng(0)
    W = mlp.init_weights(widths, rng)
    X = rng.standard_normal((6, widths[0]))
    Y = rng.standard_normal((6, widths[-1]))

    _, grads = mlp.gradient(W, X, Y, alpha)
    numeric = mlp.finite_difference_gradient(W, X, Y, alpha)
    for g, n in zip(grads, numeric):
        assert g.shape == n.shape
        assert np.max(np.abs(g - n)) < 1e-6 * max(1.0, np.max(np.abs(n)))


def test_init_weights_fan_in_variance():
    W = mlp.init_weights([50, 400, 30], np.random.default_rng(1))
    # Tolerance: the sample variance of N entries of variance v has SE v sqrt(2 / N); allow 4 SE.
    for W_l in W:
        v = 1 / W_l.shape[1]
        assert abs(W_l.var() - v) < 4 * v * np.sqrt(2 / W_l.size)


def test_forward_preserves_second_moment():
    # In course normalisation E[z^l(x)^2] = |x|^2 / d0 at every layer, averaged over weights.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 10))
    outputs = np.array([mlp.forward(mlp.init_weights([10, 200, 200, 1], rng), x)[0][-1][0, 0] for _ in range(3000)])
    expected = np.sum(x**2) / 10

    assert abs(np.mean(outputs**2) - expected) < 4 * np.std(outputs**2) / np.sqrt(outputs.size)


def test_count_weights_sums_layers():
    assert mlp.count_weights([3, 4, 4, 4, 1]) == 48
    assert mlp.count_weights([64, 1000, 10]) == 64 * 1000 + 1000 * 10


def test_loss_is_summed_squared_error():
    assert mlp.loss(np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]])) == 5.0


@pytest.mark.parametrize("widths", [[3], [3, 0, 1], [3, -2], [3, 2.5]])
def test_init_weights_rejects_bad_widths(widths):
    with pytest.raises(ValueError, match="widths"):
        mlp.init_weights(widths, np.random.default_rng(0))


def test_init_weights_requires_generator():
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        mlp.init_weights([2, 2], 0)


def test_forward_rejects_bad_inputs():
    W = mlp.init_weights([3, 2], np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 3\)"):
        mlp.forward(W, np.ones((4, 2)))
    with pytest.raises(ValueError, match="finite"):
        mlp.forward(W, np.full((4, 3), np.inf))
    with pytest.raises(ValueError, match="columns"):
        mlp.forward([np.ones((2, 3)), np.ones((1, 3))], np.ones((4, 3)))
