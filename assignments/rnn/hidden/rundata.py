"""Per-run data for train_adding (trusted; runs on the worker, never in the sandbox).

The adding task's targets are a closed-form function of its inputs, and one fixed data set
would let weights trained elsewhere be pasted in. So every grading run draws, from the run's
secret (which never enters the sandbox), its own variant of the task and fresh sequences:

- target = a * (first marked value) + b * (second marked value), with secret a and b, each
  of random sign and magnitude in [WEIGHT_LOW, WEIGHT_HIGH];
- the two input features (value, marker) go through a secret linear map: a random sign and
  a scale in [1/SCALE, SCALE] per feature, then a rotation by a random angle, so each
  feature the network sees mixes both (an RNN's W_ih absorbs any fixed invertible linear map
  of its inputs, so this is as learnable as the plain task, but weights fitted to another map
  are wrong);
- N_TRAIN training and N_HELD held-out sequences of T = STEPS steps.

Only the training sequences and their targets go into the sandbox; the held-out sequences and
targets stay on the worker for hidden/checks.py, which runs the returned weights on them.
"""

from __future__ import annotations

import numpy as np

STEPS = 10
N_TRAIN = 4000
N_HELD = 1000
WEIGHT_LOW, WEIGHT_HIGH = 0.5, 1.5
SCALE = 2.0  # each mixed feature is scaled by +-[1/SCALE, SCALE]


def adding_task(
    n: int, rng: np.random.Generator, weights: np.ndarray, mixing: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """n sequences (n, STEPS, 2), each marking one step in each half; their targets (n,)."""
    values = rng.uniform(0.0, 1.0, (n, STEPS))
    rows = np.arange(n)
    first = rng.integers(0, STEPS // 2, n)
    second = rng.integers(STEPS // 2, STEPS, n)
    markers = np.zeros((n, STEPS))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1) @ mixing
    y = weights[0] * values[rows, first] + weights[1] * values[rows, second]
    return x, y


def prepare(rng: np.random.Generator, private) -> tuple[dict, dict]:
    angle = rng.uniform(0.0, 2.0 * np.pi)
    c, s = np.cos(angle), np.sin(angle)
    scales = rng.choice([-1.0, 1.0], 2) * np.exp(rng.uniform(-np.log(SCALE), np.log(SCALE), 2))
    mixing = np.diag(scales) @ np.array([[c, s], [-s, c]])
    weights = rng.choice([-1.0, 1.0], 2) * rng.uniform(WEIGHT_LOW, WEIGHT_HIGH, 2)
    train_x, train_y = adding_task(N_TRAIN, rng, weights, mixing)
    held_x, held_y = adding_task(N_HELD, rng, weights, mixing)
    data = {"adding_train_x": train_x, "adding_train_y": train_y}
    return data, {"adding_held_x": held_x, "adding_held_y": held_y}
