"""How far the reference solution clears the two training cases over many per-run secrets.

Staff tool. Run from the repository root:
    .venv/bin/python assignments/optimizers/tools/margin.py [N]
(N secrets, default 24; OMP_NUM_THREADS=1 mimics the sandbox's single core). Each secret
draws its own split, pixel order and label order (hidden/rundata.py); the cases run in this
process (tests/assignments/casekit.py, no Docker) and hidden/checks.py scores the trained
weights on the held-out digits. Prints one line per secret, the margins and the cases' times.
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

SECRET_BASE = 0x5EC2E7_0000  # secret i is SECRET_BASE + i; the case seed is 1000 + i


def held_metrics(checks, out: dict, held: dict) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of trained softmax-regression weights on held-out digits."""
    weights, problem = checks._weights(out)
    assert weights is not None, problem
    log_probs = checks._log_probs(weights, held)
    y = held["held_y"]
    accuracy = float(np.mean(log_probs.argmax(1) == y))
    return accuracy, float(-np.mean(log_probs[np.arange(len(y)), y]))


def measure(n: int) -> dict[str, list[tuple[int, float, float, bool]]]:
    """case -> [(secret, metric the case is judged on, seconds in the case, passed)]."""
    package = load_package(PACKAGE)
    cases = load_trusted(package.read("hidden/cases.py"), "hidden/cases.py", "_margin_cases")
    checks = load_trusted(package.read("hidden/checks.py"), "hidden/checks.py", "_margin_checks")
    names = [f.removesuffix(".py") for f in package.config.files]
    rows: dict[str, list] = {"train_digits_adam": [], "train_digits_sgd": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n):
            secret = SECRET_BASE + i
            run = prepare_run(package, secret)
            data_dir = Path(tmp) / str(i)
            lay_out_data(package, run, data_dir)
            for case, rows_of_case in rows.items():
                with submitted(PACKAGE / "solution", names):
                    start = time.perf_counter()
                    out = getattr(cases, case)(LocalContext(case, 1000 + i, data_dir))
                    seconds = time.perf_counter() - start
                accuracy, loss = held_metrics(checks, out, run.held)
                ok, _ = getattr(checks, case)(out, {}, None, run.held)
                metric = accuracy if case == "train_digits_adam" else loss
                rows_of_case.append((secret, metric, seconds, ok))
    return rows


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    rows = measure(n)
    adam, sgd = rows["train_digits_adam"], rows["train_digits_sgd"]
    for a, s in zip(adam, sgd, strict=True):
        print(
            f"secret {a[0]:#x}: adam accuracy {a[1]:.4f} ({a[2]:.3f} s)  "
            f"sgd cross-entropy {s[1]:.4f} ({s[2]:.3f} s)  "
            f"{'ok' if a[3] and s[3] else 'FAIL'}"
        )
    for case, label, bound in (
        ("train_digits_adam", "accuracy", ">= 0.9"),
        ("train_digits_sgd", "cross-entropy", "<= 0.4"),
    ):
        values, times = [r[1] for r in rows[case]], [r[2] for r in rows[case]]
        print(
            f"{case}, {n} secrets: {label} min {min(values):.4f} max {max(values):.4f} "
            f"mean {np.mean(values):.4f} (needs {bound}); "
            f"case time min {min(times):.3f} s max {max(times):.3f} s"
        )
    sys.exit(0 if all(r[3] for r in adam + sgd) else 1)


if __name__ == "__main__":
    main()
