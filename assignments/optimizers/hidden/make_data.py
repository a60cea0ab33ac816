"""Write the digits the two training cases draw their per-run data from (staff only, offline).

Run from anywhere: python assignments/optimizers/hidden/make_data.py
It needs scikit-learn (load_digits ships with it, nothing is downloaded); the output is
deterministic. Not needed at grading time: the package carries the .npy files it writes.

- hidden/private/digits_x.npy  uint8 (1797, 64)  pixel counts 0..16, sklearn's order
- hidden/private/digits_y.npy  int64 (1797,)     labels 0..9

hidden/private/ is NEVER shipped into a sandbox: hidden/rundata.py reads it on the worker and
makes every grading run's training split (shipped) and held-out split (kept on the worker).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

PRIVATE = Path(__file__).resolve().parent / "private"


def main() -> None:
    """Save all 1797 digits as they come (the split is drawn per run by hidden/rundata.py)."""
    digits = load_digits()
    X = digits.data.astype(np.uint8)  # small files; the cases scale to [0, 1]
    y = digits.target.astype(np.int64)
    PRIVATE.mkdir(exist_ok=True)
    np.save(PRIVATE / "digits_x.npy", X)
    np.save(PRIVATE / "digits_y.npy", y)


if __name__ == "__main__":
    main()
