"""Variance propagation through depth: per-layer gains against sympy and wide random networks."""

import numpy as np
import pytest
import sympy as sp

from lib import neurons, propagation


def test_gain_closed_forms_match_sympy():
    alpha, n = sp.symbols("alpha n", positive=True)
    density = sp.exp(-n**2 / 2) / sp.sqrt(2 * sp.pi)
    second = sp.integrate((alpha * n) ** 2 * density, (n, 0, sp.oo))
    mean = sp.integrate(alpha * n * density, (n, 0, sp.oo))

    for value in (0.8, 1.3, 2.2):
        assert abs(propagation.variance_gain(value, balanced=False) - float(second.subs(alpha, value))) < 1e-12
        assert abs(propagation.variance_gain(value, balanced=True) - float((second - mean**2).subs(alpha, value))) < 1e-12


def test_critical_alphas():
    assert abs(propagation.variance_gain(np.sqrt(2), balanced=False) - 1) < 1e-12
    assert abs(propagation.variance_gain(neurons.alpha_star(), balanced=True) - 1) < 1e-12


@pytest.mark.parametrize("balanced", [False, True])
def test_one_layer_gain_monte_carlo(balanced):
    # One layer of a wide network, averaged over units and inputs; tolerance 4 standard errors
    # of the mean over the n x width independent-enough entries, widened by finite width.
    rng = np.random.default_rng(0)
    setup = propagation.draw_propagation_setup(rng, depth=2, width=1024, n=512)
    profile = propagation.compute_variance_profile(setup, 1.5, balanced)
    ratio = profile["measured"][1] / profile["measured"][0]

    assert abs(ratio - propagation.variance_gain(1.5, balanced)) < 4 * np.sqrt(2 / 1024) * propagation.variance_gain(1.5, balanced)


def test_depth_30_claims():
    setup = propagation.draw_propagation_setup(np.random.default_rng(11), depth=30, width=256, n=256)
    last = lambda alpha, balanced: propagation.compute_variance_profile(setup, alpha, balanced)["measured"][-1]

    assert abs(last(neurons.alpha_star(), True) - 1) < 0.2
    assert last(np.sqrt(2), True) < 1e-3


def test_profile_theory_is_gain_power():
    setup = propagation.draw_propagation_setup(np.random.default_rng(1), depth=5, width=8, n=4)
    profile = propagation.compute_variance_profile(setup, 1.2, balanced=False)

    assert np.allclose(profile["theory"], 0.72 ** np.arange(5), rtol=1e-12)


def test_setup_rejects_bad_width():
    with pytest.raises(ValueError, match="width"):
        propagation.draw_propagation_setup(np.random.default_rng(0), width=0)
