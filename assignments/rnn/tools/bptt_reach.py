"""How much gradient rnn_backward_long's inputs carry back to step 0, over many draws.

Truncated BPTT (stopping k steps back, or cutting the carried gradient every k steps) changes
exactly the gradients that reach the early steps and h0. The case is only a fair test of full
BPTT if those are far above the tolerance on every draw, not just on most. This runs the
hidden case on the reference for seeds 0..N-1 (in-process), records the upstream gradient it
hands over, and prints, per draw, |dh0| / |dh_T| (both per sequence, L2) and max |dh0| in units
of the case's tolerance (atol + rtol * 0, since a truncated dh0 is 0): the smallest over all
draws is the margin by which truncation is caught on the worst draw. From the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/rnn/tools/bptt_reach.py [N]
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suitekit import PACKAGE, LocalContext, Suite, submitted  # noqa: E402

CASE = "rnn_backward_long"


def main() -> int:
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    suite = Suite()
    spec = next(s for s in suite.specs if s.name == CASE)
    case = getattr(suite.cases, CASE)
    ratios, in_tolerances = [], []
    try:
        for seed in range(draws):
            with submitted(PACKAGE / "solution", suite.names):
                layers = importlib.import_module("rnn_layers")
                given = {}
                backward = layers.rnn_backward

                def recording(dh_all, cache, backward=backward, given=given):
                    given["dh_all"] = dh_all.copy()
                    return backward(dh_all, cache)

                layers.rnn_backward = recording
                out = case(LocalContext(CASE, seed, Path(".")))
            dh_last, dh0 = given["dh_all"][:, -1], out["dh0"]
            ratios.append(np.min(np.linalg.norm(dh0, axis=1) / np.linalg.norm(dh_last, axis=1)))
            in_tolerances.append(np.max(np.abs(dh0)) / spec.atol)
    finally:
        suite.close()
    r = np.array(ratios)
    quantiles = ", ".join(f"{q:g}: {np.quantile(r, q):.3g}" for q in (0.001, 0.01, 0.5))
    print(f"{draws} draws of {CASE} (T = 50, loss at the last step only)")
    print(f"|dh0| / |dh_T| (smallest sequence of each draw): min {r.min():.3g}; {quantiles}")
    print(
        f"max |dh0| / atol ({spec.atol:g}), i.e. a zero dh0's error: min {min(in_tolerances):.3g}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
