"""Write the digits data the cnn assignment's train_digits case draws from (staff only, run once).

Run from anywhere: `python assignments/cnn/tools/make_digits.py`. Not needed at grading time:
the .npy files it writes are part of the package. Both go to hidden/private/, which is never
shipped into a sandbox: hidden/rundata.py reads them on the worker and, for every grading run,
draws its own train/held-out split, label permutation and image transform from the run's
secret. Only that run's transformed training split enters the sandbox.

    hidden/private/digits_x.npy   (1797, 1, 8, 8) float32, pixels scaled to [0, 1]
    hidden/private/digits_y.npy   (1797,) int64, labels 0-9
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

PRIVATE = Path(__file__).resolve().parent.parent / "hidden" / "private"


def main() -> None:
    """Scale pixels to [0, 1], add the channel axis, save images and labels."""
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # (N, 1, 8, 8)
    labels = digits.target.astype(np.int64)
    PRIVATE.mkdir(parents=True, exist_ok=True)
    np.save(PRIVATE / "digits_x.npy", images, allow_pickle=False)
    np.save(PRIVATE / "digits_y.npy", labels, allow_pickle=False)
    print(f"{labels.size} images written under {PRIVATE}")


if __name__ == "__main__":
    main()
