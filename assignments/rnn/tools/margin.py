"""The reference's margin on train_adding over many per-run secrets (staff only).

Runs the hidden case on solution/ in-process (tests/assignments/casekit.py: the same per-run
data, seeds and trusted check as the worker, no sandbox) for secrets 0..N-1 and prints the
held-out MSE of each and the maximum. Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/rnn/tools/margin.py [N] [--jobs J]
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

CASE = "train_adding"
SEED = 2024  # the suite seed (ctx.rng); the secret varies the run's data


def one(secret: int) -> tuple[int, float, bool, float]:
    package = load_package(PACKAGE)
    checks = load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_rnn_checks")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        out = run_case(
            PACKAGE, PACKAGE / "solution", CASE, seed=SEED, secret=secret, tmp_path=Path(tmp)
        )
        seconds = time.monotonic() - started
    held = prepare_run(package, secret).held
    pred = checks.regressor_predict(out, held["adding_held_x"])
    mse = float(np.mean((pred - held["adding_held_y"]) ** 2))
    ok, _ = judge(PACKAGE, CASE, out, secret=secret)
    return secret, mse, ok, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=24)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with Pool(args.jobs) as pool:
        rows = pool.map(one, range(args.n))
    for secret, mse, ok, seconds in rows:
        print(f"secret {secret:3d}  mse {mse:.5f}  {'pass' if ok else 'FAIL'}  {seconds:.1f} s")
    mses = np.array([r[1] for r in rows])
    times = np.array([r[3] for r in rows])
    print(
        f"{CASE}: {args.n} secrets, MSE max {mses.max():.5f} mean {mses.mean():.5f} "
        f"min {mses.min():.5f} (threshold 0.01); {sum(r[2] for r in rows)} passed; "
        f"case time mean {times.mean():.1f} s, max {times.max():.1f} s"
    )


if __name__ == "__main__":
    main()
