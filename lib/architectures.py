"""Parameter counts of architectures and the variance of attention scores (lecture 1)."""

import numpy as np

from lib import _checks


def dense_weights(d_in, d_out):
    """Return d_in * d_out, the weights of a dense layer without biases."""
    return _checks.positive_int(d_in, "d_in") * _checks.positive_int(d_out, "d_out")


def conv_weights(k, c_in=1, c_out=1):
    """Return k * k * c_in * c_out, the shared weights of a k x k convolution without biases."""
    return _checks.positive_int(k, "k") ** 2 * _checks.positive_int(c_in, "c_in") * _checks.positive_int(c_out, "c_out")


def conv_layer_counts(maps, size, k, maps_seen):
    """Return (units, connections, free parameters) of a convolutional layer with a bias per unit.

    `maps` feature maps of size x size units, and each unit reads a k x k window in each of `maps_seen` input
    maps. Connections count every (input, unit) link plus the bias; weights are shared within a
    map, so the free parameters are maps * maps_seen * k^2 kernel weights plus one bias per unit.
    """
    units = _checks.positive_int(maps, "maps") * _checks.positive_int(size, "size") ** 2
    fan_in = _checks.positive_int(maps_seen, "maps_seen") * _checks.positive_int(k, "k") ** 2
    return units, units * (fan_in + 1), maps * fan_in + units


def dense_layer_counts(d_in, d_out):
    """Return (units, connections, free parameters) of a dense layer with a bias per unit."""
    units = _checks.positive_int(d_out, "d_out")
    connections = units * (_checks.positive_int(d_in, "d_in") + 1)
    return units, connections, connections


def lecun1989_counts():
    """Return {layer: (units, connections, free parameters)} for LeCun et al.'s 1989 zip-code network.

    16x16 input; H1: 12 maps of 8x8, 5x5 kernels on the input; H2: 12 maps of 4x4, 5x5 kernels
    on 8 of the 12 H1 maps; H3: 30 units dense on H2; output: 10 units dense on H3.
    """
    return {
        "H1": conv_layer_counts(maps=12, size=8, k=5, maps_seen=1),
        "H2": conv_layer_counts(maps=12, size=4, k=5, maps_seen=8),
        "H3": dense_layer_counts(12 * 4 * 4, 30),
        "output": dense_layer_counts(30, 10),
    }


def sample_attention_scores(d_k, n_samples, rng):
    """Draw n_samples dot products q . k of independent query and key vectors with N(0, 1) entries in dimension d_k."""
    rng = _checks.generator(rng)
    d_k = _checks.positive_int(d_k, "d_k")
    n_samples = _checks.positive_int(n_samples, "n_samples")

    q = rng.standard_normal((n_samples, d_k))
    k = rng.standard_normal((n_samples, d_k))
    return np.einsum("ij,ij->i", q, k)


def softmax(s, axis=-1):
    """Return exp(s) / sum exp(s) along `axis`, computed stably."""
    shifted = s - np.max(s, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)
