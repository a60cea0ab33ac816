"""How much of each tolerance correct float64 code uses, and float32 code (staff only).

For every float output of the NumPy cases, on seeds 0..N-1 (in-process, as killmatrix.py),
prints the share of the tolerance used, max |got - ref| / (atol + rtol * |ref|) (a case
passes while this is <= 1):
- float64: the largest over the correct alternatives of tests/assignments/alternatives/cnn
  (loops, einsum, im2col) and all seeds: the spread of float64 rounding between correct codes;
- float32: the smallest and largest over seeds for the float32 mutants (conv_float32_im2col
  for conv outputs, pool_float32 for pooling): >= 1 on every seed means float32 is rejected on
  every draw, < 1 on every seed that it is admitted, anything else is a lottery.
Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/cnn/tools/precision.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from killmatrix import PACKAGE, ROOT, Runner, mutant_folder, overlay  # noqa: E402

from grader.package import load_package  # noqa: E402

ALTERNATIVES = ROOT / "tests" / "assignments" / "alternatives" / "cnn"
FLOAT32 = {"conv.py": "conv_float32_im2col", "pool.py": "pool_float32"}
CONV_CASES = ("output_size", "conv_", "cnn_chain")  # cnn_chain mixes both: shown for conv


def usage(got: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> float:
    if got.shape != ref.shape:
        return float("inf")
    err = np.abs(got.astype(np.float64) - ref) / (atol + rtol * np.abs(ref))
    return float(err.max()) if err.size else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    package = load_package(PACKAGE)
    specs = [
        s
        for s in package.config.cases
        if s.environment == "numpy" and s.check == "allclose" and s.rtol > 0
    ]
    f64: dict[tuple[str, str], float] = {}
    f32: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        runner = Runner(package, tmp)
        alternatives = [overlay(tmp, p) for p in sorted(ALTERNATIVES.iterdir()) if p.is_dir()]
        float32 = {f: mutant_folder(tmp, m) for f, m in FLOAT32.items()}
        for seed in range(args.seeds):
            for spec in specs:
                ref = runner.run(PACKAGE / "solution", spec.name, seed)
                mine = float32["conv.py" if spec.name.startswith(CONV_CASES) else "pool.py"]
                f32_out = runner.run(mine, spec.name, seed)
                alt_outs = [runner.run(files, spec.name, seed) for files in alternatives]
                for key, want in ref.items():
                    if want.dtype.kind != "f":
                        continue
                    cell = (spec.name, key)
                    worst = max(usage(o[key], want, spec.rtol, spec.atol) for o in alt_outs)
                    f64[cell] = max(f64.get(cell, 0.0), worst)
                    f32.setdefault(cell, []).append(usage(f32_out[key], want, spec.rtol, spec.atol))
    print(f"share of the tolerance used over {args.seeds} seeds (<= 1 passes)")
    print(
        f"{'case':26s} {'output':20s} {'float64 max':>12s} {'float32 min':>12s} "
        f"{'float32 max':>12s}  float32 is"
    )
    for (case, key), worst in f64.items():
        lo, hi = min(f32[case, key]), max(f32[case, key])
        verdict = "rejected" if lo > 1 else "admitted" if hi <= 1 else "a LOTTERY"
        print(f"{case:26s} {key:20s} {worst:12.2e} {lo:12.2e} {hi:12.2e}  {verdict}")


if __name__ == "__main__":
    main()
