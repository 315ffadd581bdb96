import math

import numpy as np
import pytest

from lib import bounds

KL_GRID = [0.0, 0.5, 5.0, 50.0, 500.0]
M_GRID = [8, 30, 100, 1000, 100_000]
Q_GRID = [0.0, 0.01, 0.1, 0.3, 0.5, 0.9]


def grid():
    """Return (kl, m, q) arrays covering every combination of the three grids."""
    kl, m, q = np.meshgrid(KL_GRID, M_GRID, Q_GRID, indexing="ij")
    return kl.ravel(), m.ravel(), q.ravel()


def direct_kl(q, p):
    """kl(q || p) written out with math.log, as an independent route."""
    total = 0.0
    if q > 0:
        total += q * math.log(q / p)
    if q < 1:
        total += (1 - q) * math.log((1 - q) / (1 - p))
    return total


def test_kl_bernoulli_matches_definition():
    for q in Q_GRID + [1.0]:
        for p in [0.001, 0.2, 0.5, 0.77, 0.999]:
            assert bounds.kl_bernoulli(q, p) == pytest.approx(direct_kl(q, p), rel=1e-12, abs=1e-15)


def test_kl_bernoulli_edge_values():
    assert bounds.kl_bernoulli(0.0, 0.0) == 0.0
    assert bounds.kl_bernoulli(1.0, 1.0) == 0.0
    assert bounds.kl_bernoulli(0.3, 0.0) == np.inf
    assert bounds.kl_bernoulli(0.3, 1.0) == np.inf
    assert bounds.kl_bernoulli(0.0, 0.5) == pytest.approx(math.log(2), rel=1e-12)


def test_kl_inverse_solves_kl_equation():
    for q in Q_GRID:
        for c in [1e-4, 1e-2, 0.1, 1.0, 5.0]:
            p = bounds.kl_inverse(q, c)
            assert q <= p <= 1
            # Bisection returns the top of a bracket of width 1e-12 around the root.
            assert bounds.kl_bernoulli(q, p) >= c - 1e-12, (q, c, p)
            assert bounds.kl_bernoulli(q, max(q, p - 1e-12)) <= c + 1e-12, (q, c, p)
            if p < 0.999:
                assert bounds.kl_bernoulli(q, p) == pytest.approx(c, rel=1e-8, abs=1e-9)


def test_kl_inverse_vectorised_and_limits():
    q = np.array([0.0, 0.1, 0.4])
    c = np.array([0.2, 0.0, np.inf])
    p = bounds.kl_inverse(q, c)
    assert p.shape == (3,)
    assert p[0] == pytest.approx(1 - math.exp(-0.2), abs=2e-12)
    # Near p = q, kl(q || p) ~ (p - q)^2 / (2 q (1 - q)) cancels to rounding level (1e-17), so p - q resolves to about 1e-9.
    assert p[1] == pytest.approx(0.1, abs=1e-8)
    assert p[2] == 1.0


def test_kl_bound_never_looser_than_pinsker():
    kl, m, q = grid()
    c_ls = bounds.langford_seeger_complexity(kl, m, 0.05)
    c_maurer = bounds.maurer_complexity(kl, m, 0.05)
    looser_ls = bounds.langford_seeger_bound(q, kl, m, 0.05) - np.minimum(1.0, bounds.pinsker_bound(q, c_ls))
    looser_maurer = bounds.maurer_bound(q, kl, m, 0.05) - np.minimum(1.0, bounds.pinsker_bound(q, c_maurer))
    assert looser_ls.max() <= 1e-12, (kl[looser_ls.argmax()], m[looser_ls.argmax()], q[looser_ls.argmax()])
    assert looser_maurer.max() <= 1e-12, (kl[looser_maurer.argmax()], m[looser_maurer.argmax()], q[looser_maurer.argmax()])


def test_maurer_never_looser_than_langford_seeger():
    # 2 sqrt(m) <= m + 1 for every m (arithmetic-geometric mean), so Maurer's constant is smaller.
    kl, m, q = grid()
    excess = bounds.maurer_bound(q, kl, m, 0.05) - bounds.langford_seeger_bound(q, kl, m, 0.05)
    assert excess.max() <= 1e-12


def test_kl_bound_never_looser_than_mcallester():
    # McAllester's complexity (KL + ln(m / delta)) / (m - 1) exceeds Langford-Seeger's for m >= 3.
    kl, m, q = grid()
    excess = bounds.langford_seeger_bound(q, kl, m, 0.05) - bounds.mcallester_bound(q, kl, m, 0.05)
    assert excess.max() <= 1e-12


def test_realizable_equals_kl_bound_at_zero():
    kl, m, _ = grid()
    realizable = bounds.realizable_bound(kl, m, 0.05)
    assert np.abs(realizable - bounds.langford_seeger_bound(np.zeros_like(kl), kl, m, 0.05)).max() <= 2e-12
    assert np.all(realizable <= bounds.langford_seeger_complexity(kl, m, 0.05))


def test_mcallester_constants_and_monotonicity():
    value = bounds.mcallester_bound(0.1, 5.0, 100, 0.05)
    assert value == pytest.approx(0.1 + math.sqrt((5.0 + math.log(100 / 0.05)) / 198), rel=1e-12)
    assert bounds.mcallester_bound(0.1, 10.0, 100, 0.05) > value
    assert bounds.mcallester_bound(0.1, 5.0, 1000, 0.05) < value


def test_bounds_above_empirical_error():
    kl, m, q = grid()
    for bound in (bounds.langford_seeger_bound, bounds.maurer_bound, bounds.mcallester_bound):
        assert np.all(bound(q, kl, m, 0.05) >= q), bound.__name__


def test_bound_curves_shapes_and_order():
    curves = bounds.compute_bound_curves(kl=8.0, m=500, emp_error=0.1)
    assert curves["langford_seeger_q"].shape == curves["q_grid"].shape
    assert np.all(curves["langford_seeger_q"] <= curves["pinsker_q"] + 1e-12)
    assert np.all(curves["maurer_m"] <= curves["langford_seeger_m"] + 1e-12)


def random_distribution(rng, size, zeros=0):
    p = rng.dirichlet(np.full(size, 0.5))
    p[:zeros] = 0.0
    return p / p.sum()


def test_change_of_measure_holds_on_random_distributions():
    rng = np.random.default_rng(0)
    for trial in range(300):
        size = rng.integers(2, 12)
        p = random_distribution(rng, size)
        q = random_distribution(rng, size)
        h = rng.normal(scale=3.0, size=size)
        beta = float(rng.choice([0.1, 1.0, 7.0]))
        assert q @ h <= bounds.change_of_measure_bound(q, p, h, beta) + 1e-12, trial


def test_change_of_measure_equality_at_gibbs():
    rng = np.random.default_rng(1)
    for _ in range(50):
        size = rng.integers(2, 12)
        p = random_distribution(rng, size)
        h = rng.normal(scale=3.0, size=size)
        beta = float(rng.uniform(0.1, 5.0))
        q = bounds.gibbs_distribution(p, h, beta)
        assert bounds.change_of_measure_bound(q, p, h, beta) == pytest.approx(q @ h, rel=1e-12, abs=1e-12)


def test_change_of_measure_infinite_outside_support():
    p = np.array([0.0, 0.5, 0.5])
    q = np.array([0.2, 0.4, 0.4])
    assert bounds.kl_discrete(q, p) == np.inf
    assert bounds.change_of_measure_bound(q, p, np.array([1.0, 2.0, 3.0]), 1.0) == np.inf


def test_gibbs_family_touches_bound_once():
    rng = np.random.default_rng(2)
    p = random_distribution(rng, 8)
    h = rng.normal(size=8)
    family = bounds.compute_change_of_measure(p, h, 2.0, np.linspace(0, 6, 61))
    gaps = family["bound"] - family["expectation"]
    assert np.all(gaps >= -1e-12)
    assert int(np.argmin(gaps)) == 20
    assert abs(gaps[20]) < 1e-12


def monte_carlo_gaussian_kl(mu_q, cov_q, mu_p, cov_p, rng, n=50_000):
    """Return (mean, standard error) of ln q(w) - ln p(w) over w ~ Q."""
    from scipy.stats import multivariate_normal

    w = rng.multivariate_normal(mu_q, cov_q, size=n)
    log_ratio = multivariate_normal(mu_q, cov_q).logpdf(w) - multivariate_normal(mu_p, cov_p).logpdf(w)
    return log_ratio.mean(), log_ratio.std(ddof=1) / math.sqrt(n)


def test_gaussian_kl_against_monte_carlo():
    rng = np.random.default_rng(3)
    for k in (1, 3, 6):
        A, B = rng.normal(size=(k, k)), rng.normal(size=(k, k))
        cov_q, cov_p = A @ A.T + 0.5 * np.eye(k), B @ B.T + 0.5 * np.eye(k)
        mu_q, mu_p = rng.normal(size=k), rng.normal(size=k)
        estimate, standard_error = monte_carlo_gaussian_kl(mu_q, cov_q, mu_p, cov_p, rng)
        assert abs(bounds.gaussian_kl(mu_q, cov_q, mu_p, cov_p) - estimate) < 4 * standard_error, (k, standard_error)


def test_gaussian_kl_diagonal_against_monte_carlo():
    rng = np.random.default_rng(4)
    for k in (1, 4, 9):
        var_q, var_p = rng.uniform(0.2, 2.0, k), rng.uniform(0.2, 2.0, k)
        mu_q, mu_p = rng.normal(size=k), rng.normal(size=k)
        estimate, standard_error = monte_carlo_gaussian_kl(mu_q, np.diag(var_q), mu_p, np.diag(var_p), rng)
        assert abs(bounds.gaussian_kl_diagonal(mu_q, var_q, mu_p, var_p) - estimate) < 4 * standard_error


def test_gaussian_kl_diagonal_matches_full():
    rng = np.random.default_rng(5)
    mu_q, mu_p = rng.normal(size=5), rng.normal(size=5)
    var_q, var_p = rng.uniform(0.1, 3.0, 5), 0.7
    full = bounds.gaussian_kl(mu_q, np.diag(var_q), mu_p, 0.7 * np.eye(5))
    assert bounds.gaussian_kl_diagonal(mu_q, var_q, mu_p, var_p) == pytest.approx(full, rel=1e-12)
    assert bounds.gaussian_kl(mu_q, np.eye(5), mu_q, np.eye(5)) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: bounds.kl_bernoulli(1.2, 0.5),
        lambda: bounds.kl_bernoulli(0.2, np.nan),
        lambda: bounds.kl_inverse(0.2, -0.1),
        lambda: bounds.langford_seeger_bound(0.1, -1.0, 100, 0.05),
        lambda: bounds.langford_seeger_bound(0.1, 1.0, 0, 0.05),
        lambda: bounds.langford_seeger_bound(0.1, 1.0, 10.5, 0.05),
        lambda: bounds.langford_seeger_bound(0.1, 1.0, 100, 0.0),
        lambda: bounds.maurer_bound(0.1, 1.0, 5, 0.05),
        lambda: bounds.mcallester_bound(0.1, 1.0, 1, 0.05),
        lambda: bounds.compute_bound_curves(kl=1.0, m=4, emp_error=0.1),
        lambda: bounds.gaussian_kl(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2)),
        lambda: bounds.gaussian_kl(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
        lambda: bounds.gaussian_kl_diagonal(np.zeros(2), 0.0, np.zeros(2), 1.0),
        lambda: bounds.kl_discrete(np.array([0.5, 0.6]), np.array([0.5, 0.5])),
        lambda: bounds.kl_discrete(np.array([0.5, 0.5]), np.array([0.2, 0.3, 0.5])),
        lambda: bounds.change_of_measure_bound(np.array([0.5, 0.5]), np.array([0.5, 0.5]), np.zeros(2), 0.0),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()
