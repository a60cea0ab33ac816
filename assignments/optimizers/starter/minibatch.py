"""Mini-batch iteration over a data set (see README.md, "Mini-batches")."""

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
    """Yield (X[idx], y[idx]) batches that cover every sample once per call (one epoch).

    Sizes are [B, ..., B, N mod B] (the last one left out when drop_last). With shuffle, the
    order comes from rng.permutation (a fresh numpy.random.default_rng() when rng is None).
    """
    # TODO: build the visiting order, then yield the batches (this function is a generator).
    raise NotImplementedError("iterate_minibatches")
