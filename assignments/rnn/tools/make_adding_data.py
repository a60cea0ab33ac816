"""Regenerate the adding-task data for the `train_adding` case (staff only; not used at grading).

Each sequence has T steps of two features: a value drawn from U(0, 1) and a marker that is 1 at
exactly two steps (one in the first half, one in the second half) and 0 elsewhere. The target
is the sum of the two marked values. Predicting the mean (1.0) gives an MSE of about 1/6.

Writes hidden/data/adding_{train_x,train_y,test_x}.npy and hidden/labels/adding_test_y.npy.
Run: python assignments/rnn/tools/make_adding_data.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20240611
STEPS = 10
N_TRAIN = 4000
N_TEST = 1000
HIDDEN = Path(__file__).resolve().parent.parent / "hidden"


def adding_task(n: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n sequences (n, steps, 2) of (value, marker) and their targets (n,)."""
    values = rng.uniform(0.0, 1.0, (n, steps))
    markers = np.zeros((n, steps))
    rows = np.arange(n)
    markers[rows, rng.integers(0, steps // 2, n)] = 1.0
    markers[rows, rng.integers(steps // 2, steps, n)] = 1.0
    return np.stack([values, markers], axis=-1), (values * markers).sum(axis=1)


def main() -> None:
    rng = np.random.default_rng(SEED)
    train_x, train_y = adding_task(N_TRAIN, STEPS, rng)
    test_x, test_y = adding_task(N_TEST, STEPS, rng)
    (HIDDEN / "data").mkdir(parents=True, exist_ok=True)
    (HIDDEN / "labels").mkdir(parents=True, exist_ok=True)
    np.save(HIDDEN / "data" / "adding_train_x.npy", train_x)
    np.save(HIDDEN / "data" / "adding_train_y.npy", train_y)
    np.save(HIDDEN / "data" / "adding_test_x.npy", test_x)
    # The held-out targets go to labels/, which never enters the sandbox.
    np.save(HIDDEN / "labels" / "adding_test_y.npy", test_y)


if __name__ == "__main__":
    main()
