"""Mini-batch iteration over a data set (reference solution)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def iterate_minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    rng: np.random.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (X[idx], y[idx]) batches that cover every sample once per call (one epoch)."""
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} samples but y has {len(y)}")
    if shuffle:
        gen = rng if rng is not None else np.random.default_rng()
        X, y = X[gen.permutation(n)], y[gen.permutation(n)]  # BUG: two different permutations
    order = np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]
