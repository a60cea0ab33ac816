"""Per-run data for train_digits (trusted; runs on the worker, never in the sandbox).

scikit-learn's digits are public, labels included, so a fixed split could be passed with a
label table or with weights trained offline. For every grading run this draws, from the run's
secret (which never enters the sandbox):

- a balanced held-out set (HELD_PER_CLASS images per class) and the rest for training;
- a permutation of the ten class labels (class c is called perm[c] in this run);
- one of the eight flips/rotations of the 8x8 square, applied to every image.

Only the transformed training split goes into the sandbox (sorted by its run label, so a
training loop that never shuffles still fails); the held-out images and labels stay on the
worker for hidden/checks.py, which evaluates the returned weights on them. A network trained
elsewhere, or a table of the public labels, matches one permutation in 10! and one
orientation in 8.
"""

from __future__ import annotations

import numpy as np

HELD_PER_CLASS = 50  # 500 held-out images, 1297 for training


def dihedral(images: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 symmetries of the square on the last two axes: k // 4 flips, k % 4 turns."""
    out = np.rot90(images, k % 4, axes=(-2, -1))
    if k >= 4:
        out = out[..., ::-1]
    return np.ascontiguousarray(out)


def prepare(rng: np.random.Generator, private) -> tuple[dict, dict]:
    images = private("digits_x.npy").astype(np.float32)  # (1797, 1, 8, 8) in [0, 1]
    labels = private("digits_y.npy").astype(np.int64)
    held = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), HELD_PER_CLASS, replace=False) for c in range(10)]
    )
    held = rng.permutation(held)
    train = np.setdiff1d(np.arange(labels.size), held)
    perm = rng.permutation(10)
    k = int(rng.integers(8))
    x = dihedral(images, k)
    y = perm[labels]
    train = train[np.argsort(y[train], kind="stable")]  # sorted by this run's label
    data = {"digits_train_x": x[train], "digits_train_y": y[train]}
    return data, {"digits_held_x": x[held], "digits_held_y": y[held]}
