"""Per-run digits for the two training cases (trusted; runs on the worker, see grader/rundata.py).

Every grading run draws from its own secret (which never enters a sandbox):
- a split of the 1797 digits (hidden/private/) into 1297 training and 500 held-out images;
- one permutation of the 64 pixels, applied to every image;
- one permutation of the 10 labels.

Only the transformed training split enters the sandbox, as hidden/data/run/train_x.npy (uint8
pixel counts 0..16) and run/train_y.npy (int64 labels). The held-out images and their labels
stay here (`held`); hidden/checks.py scores the softmax-regression weights the cases trained
with the student's optimizers on them.

Softmax regression from i.i.d. initial weights learns permuted pixels and renamed classes
exactly as well as the originals (the permutation only reorders the rows and columns of W), so
a correct optimizer is judged as fairly as before; but weights trained elsewhere (on the public
digits) and tables of answers are worth nothing, and the held-out images change every run.
"""

from __future__ import annotations

import numpy as np

N_DIGITS, N_PIXELS, N_CLASSES = 1797, 64, 10
N_HELD = 500


def prepare(rng: np.random.Generator, private) -> tuple[dict, dict]:
    x = private("digits_x.npy")
    y = private("digits_y.npy")
    if x.shape != (N_DIGITS, N_PIXELS) or y.shape != (N_DIGITS,):
        raise ValueError(f"hidden/private digits have shapes {x.shape}, {y.shape}")
    order = rng.permutation(N_DIGITS)
    held, train = order[:N_HELD], order[N_HELD:]
    pixels = rng.permutation(N_PIXELS)
    relabel = rng.permutation(N_CLASSES)  # class c is called relabel[c] in this run
    x = x[:, pixels].astype(np.uint8)
    y = relabel[y.astype(np.int64)].astype(np.int64)
    data = {"train_x": x[train], "train_y": y[train]}
    kept = {"held_x": x[held], "held_y": y[held]}
    return data, kept
