"""How far the reference solution clears train_digits over many per-run secrets (staff tool).

Run from the repository root: .venv/bin/python assignments/backprop/tools/margin.py [N]
(N secrets, default 24; OMP_NUM_THREADS=1 mimics the sandbox's single core). Each secret
draws its own split, pixel order and label order (hidden/rundata.py); the case runs in this
process (tests/assignments/casekit.py, no Docker) and hidden/checks.py scores the trained
parameters on the held-out digits. Prints one line per secret, the margin and the case's time.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PACKAGE.parents[1]))  # the repository root: grader/, tests/

from grader.package import load_package  # noqa: E402
from grader.rundata import load_trusted, prepare_run  # noqa: E402
from tests.assignments.casekit import LocalContext, lay_out_data, submitted  # noqa: E402

CASE = "train_digits"
SECRET_BASE = 0x5EC2E7_0000  # secret i is SECRET_BASE + i; the case seed is 1000 + i


def measure(n: int) -> list[tuple[int, float, float, bool]]:
    """(secret, held-out accuracy, seconds in the case, passed) for n secrets."""
    package = load_package(PACKAGE)
    cases = load_trusted(package.read("hidden/cases.py"), "hidden/cases.py", "_margin_cases")
    checks = load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_margin_checks")
    names = [f.removesuffix(".py") for f in package.config.files]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            secret = SECRET_BASE + i
            run = prepare_run(package, secret)
            data_dir = Path(tmp) / str(i)
            lay_out_data(package, run, data_dir)
            with submitted(PACKAGE / "solution", names):
                start = time.perf_counter()
                out = getattr(cases, CASE)(LocalContext(CASE, 1000 + i, data_dir))
                seconds = time.perf_counter() - start
            params, problem = checks.learned_parameters(out, checks.SHAPES)
            assert params is not None, problem
            x = run.held["held_x"] / checks.PIXEL_MAX
            accuracy = float(np.mean(checks.mlp_scores(params, x).argmax(1) == run.held["held_y"]))
            ok, _ = checks.train_digits(out, {}, None, run.held)
            rows.append((secret, accuracy, seconds, ok))
    return rows


def checks_threshold() -> float:
    package = load_package(PACKAGE)
    return load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_t").MIN_ACCURACY


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    rows = measure(n)
    for secret, accuracy, seconds, ok in rows:
        verdict = "ok" if ok else "FAIL"
        print(f"secret {secret:#x}: accuracy {accuracy:.4f}  {seconds:.3f} s  {verdict}")
    accuracies = [r[1] for r in rows]
    times = [r[2] for r in rows]
    print(
        f"{CASE}, {n} secrets: accuracy min {min(accuracies):.4f} max {max(accuracies):.4f} "
        f"mean {np.mean(accuracies):.4f} (threshold {checks_threshold():g}); "
        f"case time min {min(times):.3f} s max {max(times):.3f} s"
    )
    sys.exit(0 if all(r[3] for r in rows) else 1)


if __name__ == "__main__":
    main()
