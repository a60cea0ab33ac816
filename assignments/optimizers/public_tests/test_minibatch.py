"""iterate_minibatches: sizes, coverage, pairing, drop_last and seeded shuffling."""

import numpy as np
from minibatch import iterate_minibatches


def _data(n: int):
    """X's first column and y both encode the sample index, so pairing can be checked."""
    X = np.column_stack([np.arange(n, dtype=float), np.ones(n)])
    return X, np.arange(n) + 100


def _order(n, batch_size, **kwargs):
    X, y = _data(n)
    batches = list(iterate_minibatches(X, y, batch_size, **kwargs))
    for xb, yb in batches:
        assert np.array_equal(xb[:, 0].astype(int) + 100, yb), "X and y must stay paired"
    return np.concatenate([yb - 100 for _, yb in batches]), [len(yb) for _, yb in batches]


def test_unshuffled_sizes_and_order():
    """N = 10, B = 4: batches of 4, 4, 2 in the original order."""
    order, sizes = _order(10, 4, shuffle=False)
    assert sizes == [4, 4, 2]
    assert order.tolist() == list(range(10))


def test_drop_last():
    """drop_last=True leaves out the incomplete last batch."""
    order, sizes = _order(10, 4, shuffle=False, drop_last=True)
    assert sizes == [4, 4]
    assert order.tolist() == list(range(8))


def test_shuffled_epoch_visits_every_sample_once():
    """A shuffled epoch is a permutation of all samples, not the original order."""
    order, sizes = _order(20, 6, rng=np.random.default_rng(0))
    assert sizes == [6, 6, 6, 2]
    assert sorted(order.tolist()) == list(range(20))
    assert order.tolist() != list(range(20))


def test_seeded_and_reshuffled():
    """The same seed gives the same order; the same rng gives a new order the next epoch."""
    first, _ = _order(20, 5, rng=np.random.default_rng(7))
    again, _ = _order(20, 5, rng=np.random.default_rng(7))
    assert first.tolist() == again.tolist(), "take all randomness from the rng argument"
    rng = np.random.default_rng(7)
    epoch1, _ = _order(20, 5, rng=rng)
    epoch2, _ = _order(20, 5, rng=rng)
    assert epoch1.tolist() != epoch2.tolist(), "draw a new permutation on every call"


def test_without_an_rng():
    """rng=None works (a fresh default_rng is used) and covers every sample."""
    order, sizes = _order(9, 3)
    assert sizes == [3, 3, 3]
    assert sorted(order.tolist()) == list(range(9))


def test_shuffle_without_an_rng():
    """rng=None: a fresh numpy.random.default_rng(), every sample still exactly once."""
    order, sizes = _order(10, 4)
    assert sizes == [4, 4, 2]
    assert sorted(order.tolist()) == list(range(10))
