"""Write the digits split used by the train_digits case (staff tool; not needed at grading time).

Run from anywhere: python assignments/backprop/hidden/make_data.py
It needs scikit-learn (load_digits ships with it, nothing is downloaded). The output is
deterministic, so re-running it reproduces the committed files byte for byte.

- hidden/data/digits_train_x.npy  uint8 (1297, 64)  pixel values 0..16 (shipped to the sandbox)
- hidden/data/digits_train_y.npy  uint8 (1297,)     training labels (shipped to the sandbox)
- hidden/data/digits_val_x.npy    uint8 (500, 64)   held-out inputs (shipped to the sandbox)
- hidden/labels/digits_val.npy    int64 (500,)      held-out labels (NEVER shipped)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

HIDDEN = Path(__file__).resolve().parent
SPLIT_SEED = 20260
N_VAL = 500


def main() -> None:
    """Shuffle the 1797 digits with a fixed seed and save the train/validation split."""
    digits = load_digits()
    x = digits.data.astype(np.uint8)  # integers 0..16: exact and 8x smaller than float64
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    val, tr = order[:N_VAL], order[N_VAL:]
    (HIDDEN / "data").mkdir(exist_ok=True)
    (HIDDEN / "labels").mkdir(exist_ok=True)
    np.save(HIDDEN / "data" / "digits_train_x.npy", x[tr])
    np.save(HIDDEN / "data" / "digits_train_y.npy", y[tr].astype(np.uint8))
    np.save(HIDDEN / "data" / "digits_val_x.npy", x[val])
    np.save(HIDDEN / "labels" / "digits_val.npy", y[val])
    print(f"train {len(tr)}, validation {len(val)} written under {HIDDEN}")


if __name__ == "__main__":
    main()
