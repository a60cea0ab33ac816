"""Regenerate hidden/data/ and hidden/labels/ from scikit-learn's digits (staff only, offline).

Run from anywhere: python assignments/optimizers/hidden/make_data.py
Not needed at grading time: the cases read the .npy files this script writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent
N_VAL = 500
SPLIT_SEED = 20240917


def main() -> None:
    """Write a fixed train/held-out split: raw pixel counts 0..16 as uint8, labels as int64."""
    digits = load_digits()
    X = digits.data.astype(np.uint8)  # small files; the cases scale to [0, 1]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(X))
    val, train = order[:N_VAL], order[N_VAL:]
    (HERE / "data").mkdir(exist_ok=True)
    (HERE / "labels").mkdir(exist_ok=True)
    np.save(HERE / "data" / "digits_train_X.npy", X[train])
    np.save(HERE / "data" / "digits_train_y.npy", y[train])
    np.save(HERE / "data" / "digits_val_X.npy", X[val])
    np.save(HERE / "labels" / "digits_val_y.npy", y[val])


if __name__ == "__main__":
    main()
