"""Invariant kernels by averaging over a group, and the evidence as a way to choose the invariance.

For a finite group G acting on the inputs, k_G(x, x') = (1 / |G|^2) sum_{g, g' in G} k(g x, g' x') is
the kernel of the averaged function (1 / |G|) sum_g f(g x) with f ~ GP(0, k). It is positive
semi-definite and invariant, k_G(g x, x') = k_G(x, x'), in each argument (van der Wilk, Bauer, John
and Hensman, "Learning invariances using the marginal likelihood", 2018). The evidence (log marginal
likelihood) of the GP then compares invariances on the training data alone.
"""

import numpy as np

from lib import _checks, data, gp, kernels


def shift_group(d, step=1):
    """Return the cyclic shifts of R^d by multiples of ``step`` as permutation matrices, shape (d / step, d, d)."""
    d = _checks.positive_int(d, "d")
    step = _checks.positive_int(step, "step")
    if d % step:
        raise ValueError(f"step must divide d = {d} so that the shifts form a group, got {step}")
    return np.array([np.roll(np.eye(d), k, axis=0) for k in range(0, d, step)])


def dihedral_group(d):
    """Return the 2d symmetries of a cycle of d coordinates (the shifts, and the shifts after a reversal)."""
    shifts = shift_group(d)
    reversal = np.eye(d)[::-1]
    return np.concatenate([shifts, shifts @ reversal])


def conjugate_group(group, permutation):
    """Return Q g Q^T for every g, with Q the permutation matrix of ``permutation``: the same group acting on relabelled coordinates."""
    group = _checks.as_array(group, "group", ndim=3)
    Q = np.eye(group.shape[1])[np.asarray(permutation)]
    return Q @ group @ Q.T


def _group(group, d):
    """Check that ``group`` is a (|G|, d, d) array of finite matrices."""
    group = _checks.as_array(group, "group", ndim=3)
    if group.shape[1:] != (d, d):
        raise ValueError(f"group must have shape (|G|, {d}, {d}) to act on inputs of dimension {d}, got {group.shape}")
    return group


def invariant_gram(X, Y, kernel, group):
    """Return k_G(x_i, y_j) = (1 / |G|^2) sum_{g, g'} k(g x_i, g' y_j), an (n, m) matrix.

    ``kernel(A, B)`` returns the Gram matrix between the rows of A and B; ``group`` is a (|G|, d, d)
    array of matrices acting on the rows of X (n, d) and Y (m, d).
    """
    X = _checks.as_array(X, "X", ndim=2)
    Y = _checks.as_array(Y, "Y", ndim=2)
    group = _group(group, X.shape[1])
    if Y.shape[1] != X.shape[1]:
        raise ValueError(f"Y must have shape (m, {X.shape[1]}) to match X, got {Y.shape}")
    n, m, size = X.shape[0], Y.shape[0], group.shape[0]

    # Row (g, i) of the stacked orbit is g x_i, so one Gram matrix between orbits contains every pair (g x_i, g' y_j).
    X_orbit = np.einsum("gab,nb->gna", group, X).reshape(size * n, -1)
    Y_orbit = np.einsum("gab,nb->gna", group, Y).reshape(size * m, -1)
    K = np.asarray(kernel(X_orbit, Y_orbit)).reshape(size, n, size, m)
    return K.mean(axis=(0, 2))


def nngp_kernel(L):
    """Return the depth-L NNGP kernel as a function (A, B) -> Gram matrix, for invariant_gram."""
    L = _checks.positive_int(L, "L")
    return lambda A, B: kernels.nngp_gram(A, L, B)


# The evidence across groups on data with a cyclic symmetry.


def cyclic_data(n, d, noise_std, rng):
    """Return (X, y): n Gaussian inputs rescaled to norm sqrt(d) and y = sum_i x_i x_{i+1} / sqrt(d) + noise, indices mod d.

    The target is invariant under every cyclic shift and under reversing the order of the coordinates.
    """
    n = _checks.positive_int(n, "n")
    noise_std = _checks.finite_scalar(noise_std, "noise_std", low=0.0)
    rng = _checks.generator(rng)
    X = data.normalise_rows(rng.standard_normal((n, _checks.positive_int(d, "d"))))
    y = np.sum(X * np.roll(X, -1, axis=1), axis=1) / np.sqrt(X.shape[1])
    return X, y + noise_std * rng.standard_normal(n)


def compute_invariance_evidence(X, y, X_test, y_test, groups, L, noise_var):
    """Return the log evidence on (X, y) and the test RMSE of the posterior mean for the G-averaged depth-L NNGP kernel of each group.

    ``groups`` maps a name to a (|G|, d, d) array; the results keep its order.
    """
    kernel = nngp_kernel(L)
    names, evidence, rmse = [], [], []
    for name, group in groups.items():
        K = invariant_gram(X, X, kernel, group)
        K_cross, K_test = invariant_gram(X_test, X, kernel, group), invariant_gram(X_test, X_test, kernel, group)
        mean, _ = gp.posterior(K, K_cross, K_test, y, noise_var)

        names.append(name)
        evidence.append(gp.log_marginal_likelihood(K, y, noise_var))
        rmse.append(np.sqrt(np.mean((mean - y_test) ** 2)))
    return {"names": names, "sizes": np.array([len(group) for group in groups.values()]),
            "log_evidence": np.array(evidence), "test_rmse": np.array(rmse)}
