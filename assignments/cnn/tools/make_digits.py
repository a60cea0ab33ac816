"""Write the digits split the cnn assignment trains and grades on (staff only, run once).

Run from anywhere: `python assignments/cnn/tools/make_digits.py`. Not needed at grading time:
the .npy files it writes are part of the package. The training arrays go to hidden/data/
(shipped into the sandbox); the held-out labels go to hidden/labels/ only, so student code
sees the test images but never their labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

SPLIT_SEED = 20240917
TEST_PER_CLASS = 50  # 500 held-out images, balanced over the ten classes
HIDDEN = Path(__file__).resolve().parent.parent / "hidden"


def split_indices(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Balanced held-out indices (TEST_PER_CLASS per class) and the remaining training ones."""
    test = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        test.extend(rng.choice(members, size=TEST_PER_CLASS, replace=False))
    test_idx = rng.permutation(np.array(test))
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx)
    return train_idx, test_idx


def main() -> None:
    """Scale pixels to [0, 1], add the channel axis, sort training data by label, save."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # (N, 1, 8, 8)
    labels = digits.target.astype(np.int64)
    train_idx, test_idx = split_indices(labels, np.random.default_rng(SPLIT_SEED))
    # Sorted by label on purpose: training without shuffling must visibly fail.
    train_idx = train_idx[np.argsort(labels[train_idx], kind="stable")]
    (HIDDEN / "data").mkdir(parents=True, exist_ok=True)
    (HIDDEN / "labels").mkdir(parents=True, exist_ok=True)
    np.save(HIDDEN / "data" / "digits_train_x.npy", images[train_idx])
    np.save(HIDDEN / "data" / "digits_train_y.npy", labels[train_idx])
    np.save(HIDDEN / "data" / "digits_test_x.npy", images[test_idx])
    np.save(HIDDEN / "labels" / "digits_test_y.npy", labels[test_idx])
    print(f"train {train_idx.size}, test {test_idx.size} images written under {HIDDEN}")


if __name__ == "__main__":
    main()
