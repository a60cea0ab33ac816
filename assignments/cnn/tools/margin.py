"""The reference's margin on train_digits over many per-run secrets (staff only).

Runs the hidden case on solution/ in-process (tests/assignments/casekit.py: the same per-run
data, seeds and trusted check as the worker, no sandbox) for secrets 0..N-1 and prints the
held-out accuracy of each and the minimum. Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/cnn/tools/margin.py [N] [--jobs J]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parent.parent
ROOT = PACKAGE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "assignments")]

from casekit import judge, run_case  # noqa: E402

from grader.package import load_package  # noqa: E402
from grader.rundata import load_trusted, prepare_run  # noqa: E402

CASE = "train_digits"
SEED = 2024  # the suite seed (ctx.rng); the secret varies the run's data


def one(secret: int) -> tuple[int, float, bool, float]:
    import torch

    torch.set_num_threads(1)
    package = load_package(PACKAGE)
    checks = load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_cnn_checks")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        out = run_case(
            PACKAGE, PACKAGE / "solution", CASE, seed=SEED, secret=secret, tmp_path=Path(tmp)
        )
        seconds = time.monotonic() - started
    held = prepare_run(package, secret).held
    logits = checks.lenet_logits(out, held["digits_held_x"].astype(np.float64))
    accuracy = float(np.mean(logits.argmax(axis=1) == held["digits_held_y"]))
    ok, _ = judge(PACKAGE, CASE, out, secret=secret)
    return secret, accuracy, ok, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=24)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with Pool(args.jobs) as pool:
        rows = pool.map(one, range(args.n))
    for secret, accuracy, ok, seconds in rows:
        print(
            f"secret {secret:3d}  accuracy {accuracy:.3f}  {'pass' if ok else 'FAIL'}  "
            f"{seconds:.1f} s"
        )
    accs = np.array([r[1] for r in rows])
    times = np.array([r[3] for r in rows])
    print(
        f"{CASE}: {args.n} secrets, accuracy min {accs.min():.3f} mean {accs.mean():.3f} "
        f"max {accs.max():.3f} (threshold 0.9); {sum(r[2] for r in rows)} passed; "
        f"case time mean {times.mean():.1f} s, max {times.max():.1f} s"
    )


if __name__ == "__main__":
    main()
