"""Shuffles an index array in place with rng.shuffle (a different order from permutation's)."""

import numpy as np


def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
    idx = np.arange(len(y))
    if shuffle:
        (rng or np.random.default_rng()).shuffle(idx)
    start = 0
    while start < len(idx):
        batch = idx[start : start + batch_size]
        if drop_last and len(batch) < batch_size:
            return
        yield X[batch], y[batch]
        start += batch_size
