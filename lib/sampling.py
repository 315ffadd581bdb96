"""Exact sampling of random relu networks' outputs in course normalisation, without drawing weights.

Given the activations A (n x d_{l-1}) of layer l - 1 on n inputs, the pre-activations of layer l are
Z = A W^T with W_ij ~ N(0, 1 / d_{l-1}), so the d_l units (columns of Z) are independent
N(0, A A^T / d_{l-1}) vectors. Drawing Z = C E with C C^T = A A^T / d_{l-1} and E an n x d_l matrix of
standard normals therefore gives the same joint distribution over all layers as drawing the weights,
at a cost of O(n^2 d_l) per layer instead of O(d_l d_{l-1}).
"""

import numpy as np

from lib import _checks, mlp, neurons

# Networks are sampled in chunks of at most this many array entries (n inputs x width x networks) per
# layer, or one network if it alone is larger, which bounds each live array at 8 bytes per entry.
CHUNK_ENTRIES = 2**22


def psd_square_root(K):
    """Return C with C C^T = K for a symmetric positive semi-definite K of shape (..., n, n).

    Uses the Cholesky factor when every matrix of the stack has one; otherwise (a rank-deficient K,
    from duplicate inputs, dead units or n > width) uses V diag(sqrt(max(lambda, 0))) from the
    eigendecomposition K = V diag(lambda) V^T. Neither adds jitter to K.
    """
    K = np.asarray(K, dtype=float)
    try:
        return np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        eigenvalues, eigenvectors = np.linalg.eigh(K)
        return eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))[..., None, :]


def _check_network(X, widths, n_networks, rng, scalar_output):
    """Validate the sampler arguments and return (X, widths, n_networks, rng)."""
    X = _checks.as_array(X, "X", ndim=2)
    if len(widths) < 2:
        raise ValueError(f"widths must list at least [d0, d1], got {widths!r}")
    widths = [_checks.positive_int(d, f"widths[{l}]") for l, d in enumerate(widths)]
    if widths[0] != X.shape[1]:
        raise ValueError(f"widths[0] must equal the input dimension d0 = {X.shape[1]} of X, got {widths[0]}")
    if scalar_output and widths[-1] != 1:
        raise ValueError(f"widths must end with 1 (one output unit), got {widths!r}")
    n_networks = _checks.positive_int(n_networks, "n_networks")
    rng = _checks.generator(rng)
    return X, widths, n_networks, rng


def _sample_layers(X, widths, n_networks, rng):
    """Yield (K, Z) for layers 1..L of n_networks independent networks on the inputs X (n, d0).

    K (n_networks, n, n) is the covariance of each unit of layer l given layer l - 1 (for layer 1
    it is X X^T / d0 for every network), and Z (n_networks, n, d_l) contains the sampled pre-activations.
    """
    n = X.shape[0]
    K = X @ X.T / widths[0]
    # einsum rather than matmul for C E: OpenBLAS's threaded small products stall when the cores are busy.
    Z = np.einsum("ij,bjk->bik", psd_square_root(K), rng.standard_normal((n_networks, n, widths[1])))
    yield np.broadcast_to(K, (n_networks, n, n)), Z

    for l in range(2, len(widths)):
        A = neurons.scaled_relu(Z, np.sqrt(2))
        K = A @ np.swapaxes(A, 1, 2) / widths[l - 1]
        Z = np.einsum("bij,bjk->bik", psd_square_root(K), rng.standard_normal((n_networks, n, widths[l])))
        yield K, Z


def _chunk_sizes(n_networks, entries_per_network):
    """Return the numbers of networks to sample per chunk so that a chunk stays within CHUNK_ENTRIES."""
    per_chunk = max(1, CHUNK_ENTRIES // entries_per_network)
    full, rest = divmod(n_networks, per_chunk)
    return [per_chunk] * full + ([rest] if rest else [])


def sample_outputs(X, widths, n_networks, rng):
    """Sample f(X) of n_networks independent relu networks exactly, layer by layer from conditional Gaussians.

    widths = [d0, d1, ..., d_{L-1}, 1]; X (n, d0) is used as given (rescale rows with
    lib.data.normalise_rows for course normalisation). Returns shape (n_networks, n), distributed
    exactly as sample_outputs_by_weights.
    """
    X, widths, n_networks, rng = _check_network(X, widths, n_networks, rng, scalar_output=True)
    n = X.shape[0]

    outputs = []
    for size in _chunk_sizes(n_networks, n * max(widths[1:])):
        for _, Z in _sample_layers(X, widths, size, rng):
            pass
        outputs.append(Z[:, :, 0])
    return np.concatenate(outputs)


def sample_layerwise(X, widths, n_networks, rng):
    """Sample every layer of n_networks random networks and return (first_units, kernels).

    first_units (L, n_networks, n) contains unit 1 of z^l on the inputs, which is distributed as the
    output of a depth-l network with these widths. kernels (L, n_networks, n, n) contains each network's
    covariance A A^T / d_{l-1} of layer l given layer l - 1, whose mean over networks is E[z^l(x) z^l(x')].
    All networks are sampled at once, so keep n_networks x n x max(widths) moderate.
    """
    X, widths, n_networks, rng = _check_network(X, widths, n_networks, rng, scalar_output=False)

    first_units, kernels = [], []
    for K, Z in _sample_layers(X, widths, n_networks, rng):
        first_units.append(Z[:, :, 0])
        kernels.append(K)
    return np.stack(first_units), np.stack(kernels)


def sample_outputs_by_weights(X, widths, n_networks, rng):
    """Sample f(X) of n_networks relu networks by drawing every weight matrix with lib.mlp (the reference).

    Same arguments and result shape (n_networks, n) as sample_outputs; one network at a time.
    """
    X, widths, n_networks, rng = _check_network(X, widths, n_networks, rng, scalar_output=True)

    outputs = np.empty((n_networks, X.shape[0]))
    for k in range(n_networks):
        W = mlp.init_weights(widths, rng)
        Z, _ = mlp.forward(W, X)
        outputs[k] = Z[-1][:, 0]
    return outputs
