"""Power iteration against the SVD, spectral normalisation, and the product Lipschitz bound on random input pairs."""

import numpy as np
import pytest

from lib import lipschitz, mlp


def matrix_with_singular_values(s, rng, n_rows=None):
    """Return U diag(s) V^T with random orthogonal U and V."""
    k = len(s)
    U, _ = np.linalg.qr(rng.standard_normal((n_rows or k, k)))
    V, _ = np.linalg.qr(rng.standard_normal((k, k)))
    return U @ np.diag(s) @ V.T


@pytest.mark.parametrize("shape", [(5, 5), (20, 8), (8, 20), (64, 64)])
def test_power_iteration_converges_to_svd(shape):
    rng = np.random.default_rng(shape[0] * shape[1])
    W = rng.standard_normal(shape)
    s = np.linalg.svd(W, compute_uv=False)

    estimates = lipschitz.power_iteration(W, 2000, rng)
    assert np.all(estimates <= s[0] * (1 + 1e-12)), "power iteration never overestimates ||W||_2"
    assert estimates[-1] == pytest.approx(s[0], rel=1e-10)
    assert estimates[-1] == pytest.approx(np.linalg.norm(W, 2), rel=1e-10)


def test_power_iteration_error_bound():
    rng = np.random.default_rng(1)
    s = np.array([3.0, 2.4, 1.0, 0.5, 0.1])
    W = matrix_with_singular_values(s, rng, n_rows=7)
    _, _, Vt = np.linalg.svd(W)
    v0 = rng.standard_normal(5)

    errors = 1 - (lipschitz.power_iteration(W, 40, rng, v0=v0) / s[0]) ** 2
    cos0 = abs(v0 @ Vt[0]) / np.linalg.norm(v0)
    bound = (1 - cos0**2) / cos0**2 * (s[1] / s[0]) ** (4 * np.arange(1, 41))
    assert np.all(errors <= bound * (1 + 1e-9) + 1e-15)
    assert errors[10] > 0.01 * bound[10], "the rate (s_2/s_1)^(4k) is attained, not only bounded"


def test_spectral_normalisation_gives_unit_norms():
    rng = np.random.default_rng(2)
    W = mlp.init_weights([10, 30, 20, 1], rng)
    normalised = lipschitz.spectral_normalise(W, 500, rng)

    for W_l, N_l in zip(W, normalised):
        assert np.linalg.norm(N_l, 2) == pytest.approx(1.0, rel=1e-10)
        np.testing.assert_allclose(N_l * np.linalg.norm(W_l, 2), W_l, rtol=1e-9)
    assert lipschitz.lipschitz_bound(normalised, alpha=1.0) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("alpha", [1.0, np.sqrt(2)])
def test_lipschitz_bound_holds_on_random_pairs(alpha):
    rng = np.random.default_rng(3)
    for widths in ([5, 1], [5, 8, 1], [5, 16, 16, 16, 3]):
        W = mlp.init_weights(widths, rng)
        X = rng.standard_normal((3000, 5))
        near = X + 1e-3 * rng.standard_normal((3000, 5))
        far = rng.standard_normal((3000, 5))
        bound = lipschitz.lipschitz_bound(W, alpha)
        assert np.all(lipschitz.difference_quotients(W, X, near, alpha) <= bound)
        assert np.all(lipschitz.difference_quotients(W, X, far, alpha) <= bound)


def test_lipschitz_bound_is_attained_by_a_linear_layer():
    rng = np.random.default_rng(4)
    W = [rng.standard_normal((3, 6))]
    _, s, Vt = np.linalg.svd(W[0])
    quotient = lipschitz.difference_quotients(W, Vt[:1], np.zeros((1, 6)))
    assert quotient[0] == pytest.approx(lipschitz.lipschitz_bound(W), rel=1e-12)
    assert lipschitz.lipschitz_bound(W) == pytest.approx(s[0], rel=1e-12)


def test_depth_looseness_respects_bound():
    result = lipschitz.compute_depth_looseness([1, 3, 5], width=32, n_inputs=200, rng=np.random.default_rng(5))
    assert np.all(result["gradient"] <= result["bound"] * (1 + 1e-12))
    assert np.all(result["gradient_normalised"] <= result["bound_normalised"] * (1 + 1e-12))
    np.testing.assert_allclose(result["bound_normalised"], np.sqrt(2) ** np.array([0, 2, 4]), rtol=1e-9)
    assert result["bound"][-1] / result["gradient"][-1] > result["bound"][0] / result["gradient"][0]


def test_lipschitz_bad_arguments_raise():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="null space"):
        lipschitz.power_iteration(np.zeros((3, 3)), 5, rng)
    with pytest.raises(ValueError, match="null space"):
        lipschitz.power_iteration(np.diag([1.0, 0.0]), 5, rng, v0=np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="v0 must be a non-zero"):
        lipschitz.power_iteration(np.eye(2), 5, rng, v0=np.zeros(2))
    with pytest.raises(ValueError, match="n_iterations must"):
        lipschitz.power_iteration(np.eye(2), 0, rng)
    with pytest.raises(ValueError, match="differ in every row"):
        lipschitz.difference_quotients(mlp.init_weights([2, 1], rng), np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="alpha must"):
        lipschitz.lipschitz_bound(mlp.init_weights([2, 1], rng), alpha=np.inf)
