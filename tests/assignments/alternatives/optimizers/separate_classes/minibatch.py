"""Mini-batches from index chunks, the batch bounds computed up front."""

import numpy as np


def iterate_minibatches(X, y, batch_size, shuffle=True, rng=None, drop_last=False):
    n = X.shape[0]
    if shuffle:
        if rng is None:
            rng = np.random.default_rng()
        idx = rng.permutation(n)
    else:
        idx = np.arange(n)
    n_batches = n // batch_size if drop_last else -(-n // batch_size)
    for k in range(n_batches):
        chunk = idx[k * batch_size : min(n, (k + 1) * batch_size)]
        yield X[chunk], y[chunk]
