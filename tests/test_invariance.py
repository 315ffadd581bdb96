"""Group-averaged kernels: positive semi-definite, invariant, equal to the single average for invariant base kernels; the evidence on symmetric data."""

import numpy as np
import pytest

from lib import data, invariance


def is_group(matrices):
    """Return True when the set of matrices contains the identity and is closed under products."""
    keys = {tuple(np.round(g, 12).ravel()) for g in matrices}
    closed = all(tuple(np.round(a @ b, 12).ravel()) in keys for a in matrices for b in matrices)
    return closed and tuple(np.eye(matrices.shape[1]).ravel()) in keys


def skewed_kernel(A, B):
    """A kernel that no permutation of coordinates leaves fixed: linear plus a rank-one term along e_1, squared."""
    return (A @ B.T / A.shape[1] + np.outer(A[:, 0], B[:, 0])) ** 2


GROUPS = {
    "C2": invariance.shift_group(6, step=3),
    "C3": invariance.shift_group(6, step=2),
    "C6": invariance.shift_group(6),
    "D6": invariance.dihedral_group(6),
    "C6 relabelled": invariance.conjugate_group(invariance.shift_group(6), [0, 2, 1, 3, 5, 4]),
}


@pytest.mark.parametrize("name", sorted(GROUPS))
def test_groups_are_closed(name):
    group = GROUPS[name]
    assert is_group(group)
    assert len({tuple(g.ravel()) for g in group}) == group.shape[0], "no element is listed twice"


def test_group_orders():
    assert invariance.shift_group(8, step=2).shape == (4, 8, 8)
    assert invariance.dihedral_group(5).shape == (10, 5, 5)


@pytest.mark.parametrize("name", sorted(GROUPS))
@pytest.mark.parametrize("kernel_name", ["nngp", "skewed"])
def test_averaged_kernel_psd_and_invariant(name, kernel_name):
    rng = np.random.default_rng(0)
    group = GROUPS[name]
    kernel = invariance.nngp_kernel(3) if kernel_name == "nngp" else skewed_kernel
    X = data.normalise_rows(rng.standard_normal((12, 6)))
    Y = data.normalise_rows(rng.standard_normal((5, 6)))

    K = invariance.invariant_gram(X, X, kernel, group)
    np.testing.assert_allclose(K, K.T, rtol=0, atol=1e-13)
    assert np.linalg.eigvalsh(K)[0] >= -1e-12 * np.abs(K).max()
    K_cross = invariance.invariant_gram(X, Y, kernel, group)
    for g in group:
        np.testing.assert_allclose(invariance.invariant_gram(X @ g.T, Y, kernel, group), K_cross, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(invariance.invariant_gram(X, Y @ g.T, kernel, group), K_cross, rtol=1e-12, atol=1e-14)


def test_skewed_kernel_is_not_invariant_before_averaging():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 6))
    shift = GROUPS["C6"][1]
    assert not np.allclose(skewed_kernel(X @ shift.T, X), skewed_kernel(X, X))


def test_double_average_equals_single_for_invariant_kernel():
    rng = np.random.default_rng(2)
    X = data.normalise_rows(rng.standard_normal((7, 6)))
    Y = data.normalise_rows(rng.standard_normal((4, 6)))
    kernel = invariance.nngp_kernel(2)
    group = GROUPS["D6"]

    # A dot-product kernel satisfies k(g x, g y) = k(x, y) for orthogonal g, so one average suffices.
    single = np.mean([kernel(X, Y @ g.T) for g in group], axis=0)
    np.testing.assert_allclose(invariance.invariant_gram(X, Y, kernel, group), single, rtol=1e-12)


def test_trivial_group_returns_base_kernel():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4))
    np.testing.assert_allclose(invariance.invariant_gram(X, X, skewed_kernel, np.eye(4)[None]), skewed_kernel(X, X), rtol=1e-14)


def test_cyclic_target_is_invariant():
    X, y = invariance.cyclic_data(20, 8, noise_std=0.0, rng=np.random.default_rng(4))
    for g in np.concatenate([invariance.shift_group(8), invariance.dihedral_group(8)]):
        shifted = X @ g.T
        np.testing.assert_allclose(np.sum(shifted * np.roll(shifted, -1, axis=1), axis=1) / np.sqrt(8), y, rtol=1e-12)


def test_right_invariance_raises_evidence():
    rng = np.random.default_rng(5)
    X, y = invariance.cyclic_data(60, 8, noise_std=0.1, rng=rng)
    X_test, y_test = invariance.cyclic_data(50, 8, noise_std=0.1, rng=rng)
    groups = {"none": invariance.shift_group(8, step=8), "C8": invariance.shift_group(8),
              "wrong": invariance.conjugate_group(invariance.shift_group(8), [0, 1, 2, 3, 5, 4, 6, 7])}

    result = invariance.compute_invariance_evidence(X, y, X_test, y_test, groups, L=2, noise_var=0.01)
    assert result["names"] == ["none", "C8", "wrong"]
    np.testing.assert_array_equal(result["sizes"], [1, 8, 8])
    none, right, wrong = result["log_evidence"]
    assert right > none > wrong
    assert result["test_rmse"][1] < result["test_rmse"][0] < result["test_rmse"][2]


def test_invariance_bad_arguments_raise():
    X = np.ones((3, 4))
    with pytest.raises(ValueError, match="step must divide"):
        invariance.shift_group(6, step=4)
    with pytest.raises(ValueError, match="group must have shape"):
        invariance.invariant_gram(X, X, skewed_kernel, np.eye(3)[None])
    with pytest.raises(ValueError, match="Y must have shape"):
        invariance.invariant_gram(X, np.ones((2, 3)), skewed_kernel, np.eye(4)[None])
    with pytest.raises(ValueError, match="noise_std must"):
        invariance.cyclic_data(5, 4, -0.1, np.random.default_rng(0))
