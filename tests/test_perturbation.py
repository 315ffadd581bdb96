"""Perturbation theory: matrix inequalities, the scalar identity and deep relu networks."""

import numpy as np
import pytest
import sympy as sp

from lib import mlp, perturbation


@pytest.mark.parametrize("L", [1, 2, 3, 5])
def test_scalar_identity_matches_sympy(L):
    a = sp.symbols(f"a1:{L + 1}", nonzero=True)
    da = sp.symbols(f"d1:{L + 1}")
    lhs = (sp.Mul(*[x + d for x, d in zip(a, da)]) - sp.Mul(*a)) / sp.Mul(*a)
    rhs = sp.Mul(*[1 + d / x for x, d in zip(a, da)]) - 1
    assert sp.simplify(lhs - rhs) == 0

    values = dict(zip(a + da, np.random.default_rng(L).uniform(0.5, 1.5, 2 * L)))
    numeric = perturbation.scalar_network_relative_change([values[x] for x in a], [values[d] for d in da])
    assert abs(numeric - float(rhs.subs(values))) < 1e-12 * max(1, abs(numeric))


def test_weyl_and_mirsky_hold():
    rng = np.random.default_rng(0)
    for _ in range(200):
        A = rng.standard_normal((6, 4)) * rng.uniform(0.1, 10)
        E = rng.standard_normal((6, 4)) * rng.uniform(0.01, 10)
        assert np.all(perturbation.weyl_gaps(A, E) <= np.linalg.norm(E, 2) * (1 + 1e-12))
        assert perturbation.mirsky_gap(A, E) <= np.linalg.norm(E, "fro") * (1 + 1e-12)


def test_weyl_is_tight_for_scaled_identity():
    # E = e I shifts every singular value of a positive diagonal A by exactly e = ||E||_2.
    A = np.diag([3.0, 2.0, 1.0])
    assert np.allclose(perturbation.weyl_gaps(A, 0.5 * np.eye(3)), 0.5, rtol=1e-12)


def test_aligned_perturbation_attains_bound():
    setup = perturbation.draw_perturbation_setup(np.random.default_rng(1), max_depth=12, width=16, n=8)
    for eta in (0.01, 0.3, 1.0):
        profile = perturbation.compute_perturbation_profile(setup, eta, 12)
        assert np.allclose(profile["aligned"], (1 + eta) ** np.arange(1, 13) - 1, rtol=1e-12, atol=0)
        assert np.all(profile["first_order"] <= profile["bound"])


def test_random_perturbation_obeys_worst_case():
    rng = np.random.default_rng(2)
    for depth in (1, 3, 8):
        W = mlp.init_weights([10] * (depth + 1), rng)
        dW = perturbation.scale_perturbations(W, [rng.standard_normal(w.shape) for w in W], 0.2)
        X = rng.standard_normal((50, 10))
        change = np.linalg.norm(mlp.forward([w + d for w, d in zip(W, dW)], X)[0][-1] - mlp.forward(W, X)[0][-1], axis=1)
        assert np.all(change <= perturbation.worst_case_change(W, 0.2) * np.linalg.norm(X, axis=1))


def test_scale_perturbations_sets_relative_size():
    rng = np.random.default_rng(3)
    W = mlp.init_weights([5, 7, 3], rng)
    dW = perturbation.scale_perturbations(W, [rng.standard_normal(w.shape) for w in W], 0.25)
    for w, d in zip(W, dW):
        assert abs(np.linalg.norm(d, 2) / np.linalg.norm(w, 2) - 0.25) < 1e-12


def test_profile_rejects_too_deep():
    setup = perturbation.draw_perturbation_setup(np.random.default_rng(0), max_depth=3, width=4, n=2)
    with pytest.raises(ValueError, match="L must be at most 3"):
        perturbation.compute_perturbation_profile(setup, 0.1, 4)


def test_scalar_change_rejects_zero_weight():
    with pytest.raises(ValueError, match="no zero entries"):
        perturbation.scalar_network_relative_change([1.0, 0.0], [0.1, 0.1])
