"""The quadratic models of lecture 3 against sympy, simulation and numerical minimisation."""

import numpy as np
import pytest
import sympy as sp
from scipy import optimize

from lib import quadratic


def random_spd(d, seed, condition=20.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return Q @ np.diag(np.geomspace(1.0, 1.0 / condition, d) * rng.uniform(0.5, 3.0)) @ Q.T


@pytest.mark.parametrize("kappa", [1.0, 3.0, 100.0])
def test_quadratic_matrix_spectrum(kappa):
    A = quadratic.quadratic_matrix(kappa, lambda_max=2.5, angle=0.4)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), [2.5 / kappa, 2.5], rtol=1e-13)
    np.testing.assert_allclose(A, A.T, rtol=0, atol=0)


def test_quadratic_expansion_matches_sympy():
    a, b, c, x1, x2, eta = sp.symbols("a b c x1 x2 eta", real=True)
    A = sp.Matrix([[a, b], [b, c]])
    x = sp.Matrix([x1, x2])
    f = lambda v: (v.T * A * v)[0] / 2
    g = A * x
    exact = f(x - eta * g)
    expansion = f(x) - eta * (g.T * g)[0] + eta**2 / 2 * (g.T * A * g)[0]
    assert sp.expand(exact - expansion) == 0

    values = {a: 1.3, b: -0.4, c: 0.7, x1: 0.9, x2: -1.1, eta: 0.35}
    A_num = np.array([[1.3, -0.4], [-0.4, 0.7]])
    x_num = np.array([0.9, -1.1])
    result = quadratic.compute_descent_lemma(A_num, x_num, np.array([0.35]))
    assert result["actual"][0] == pytest.approx(float(f(x).subs(values) - exact.subs(values)), rel=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("seed", range(4))
def test_descent_lemma_holds_on_quadratics(d, seed):
    A = random_spd(d, seed)
    L = np.linalg.eigvalsh(A)[-1]
    x = np.random.default_rng(100 + seed).standard_normal(d)
    etas = np.linspace(0, 3 / L, 61)
    g = A @ x
    after = quadratic.quadratic_loss(A, x[None, :] - etas[:, None] * g[None, :])
    bound = quadratic.descent_lemma_bound(float(quadratic.quadratic_loss(A, x)), g, etas, L)
    assert np.all(after <= bound + 1e-12 * np.abs(bound).max())


def test_descent_lemma_tight_on_top_eigenvector():
    A = random_spd(3, 7)
    eigenvalues, eigenvectors = np.linalg.eigh(A)
    x = eigenvectors[:, -1]
    result = quadratic.compute_descent_lemma(A, x, np.linspace(0.01, 2.5, 9) / eigenvalues[-1])
    np.testing.assert_allclose(result["actual"], result["guaranteed"], rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_predicted_losses_match_simulation(seed):
    A = random_spd(3, seed)
    x0 = np.random.default_rng(seed).standard_normal(3)
    for eta in [0.1, 1.0, 1.9 / np.linalg.eigvalsh(A)[-1], 2.1 / np.linalg.eigvalsh(A)[-1]]:
        path = quadratic.gradient_descent_path(A, x0, eta, 40)
        np.testing.assert_allclose(quadratic.quadratic_loss(A, path), quadratic.predicted_losses(A, x0, eta, 40), rtol=1e-10)


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_gradient_descent_converges_iff_below_boundary(kappa):
    A = quadratic.quadratic_matrix(kappa, lambda_max=4.0)
    for factor in [0.9, 0.99, 1.01, 1.1]:
        path = quadratic.gradient_descent_path(A, np.array([1.0, 1.0]), factor * 2 / 4.0, 400)
        assert (np.linalg.norm(path[-1]) < np.linalg.norm(path[0])) == (factor < 1), f"factor {factor}"
        assert (quadratic.contraction_factor(np.array([4.0 / kappa, 4.0]), factor / 2) < 1) == (factor < 1)


def test_compute_quadratic_descent_boundary():
    below = quadratic.compute_quadratic_descent(10**0.29, 10.0)
    above = quadratic.compute_quadratic_descent(10**0.31, 10.0)
    assert below["eta_critical"] == pytest.approx(2.0, rel=1e-13)
    assert below["factor"] < 1 < above["factor"]
    assert below["losses"][-1] < below["losses"][0] < above["losses"][-1]
    np.testing.assert_allclose(above["losses"], above["predicted"], rtol=1e-10)
    np.testing.assert_allclose(below["boundary_losses"][-1], below["boundary_losses"][-2], rtol=1e-3)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("indefinite", [False, True])
def test_cubic_step_is_global_minimiser(seed, indefinite):
    rng = np.random.default_rng(seed)
    H = random_spd(3, seed) - (1.5 * np.eye(3) if indefinite else 0)
    g, M = rng.standard_normal(3), rng.uniform(0.5, 5.0)
    d = quadratic.cubic_regularised_step(g, H, M)

    np.testing.assert_allclose(g + H @ d + M / 2 * np.linalg.norm(d) * d, 0, atol=1e-10)
    assert np.linalg.eigvalsh(H + M / 2 * np.linalg.norm(d) * np.eye(3))[0] >= -1e-10
    starts = rng.standard_normal((20, 3)) * 3
    best = min(optimize.minimize(quadratic.cubic_model, s, args=(g, H, M), tol=1e-12).fun for s in starts)
    assert quadratic.cubic_model(d, g, H, M) <= best + 1e-9


def test_quadratic_functions_reject_bad_arguments():
    with pytest.raises(ValueError, match="kappa"):
        quadratic.quadratic_matrix(0.5)
    with pytest.raises(ValueError, match="symmetric"):
        quadratic.quadratic_loss(np.array([[1.0, 2.0], [0.0, 1.0]]), np.ones(2))
    with pytest.raises(ValueError, match="x0"):
        quadratic.gradient_descent_path(np.eye(2), np.ones(3), 0.1, 5)
    with pytest.raises(ValueError, match="n_steps"):
        quadratic.predicted_losses(np.eye(2), np.ones(2), 0.1, 0)
    with pytest.raises(ValueError, match="M must be positive"):
        quadratic.cubic_regularised_step(np.ones(2), np.eye(2), 0.0)
    with pytest.raises(ValueError, match="hard case"):
        quadratic.cubic_regularised_step(np.array([1.0, 0.0]), np.diag([1.0, -1.0]), 1.0)
