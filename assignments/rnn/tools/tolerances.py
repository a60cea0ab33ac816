"""Measure each exact case's tolerance against the reference's own numerical spread.

For every allclose case and every output, over many seeds (in-process, tools/suitekit.py):

- scale: the smallest, over seeds, of max |reference output| (how large the numbers are);
- float64 spread: how far the correct alternatives under tests/assignments/alternatives/rnn/
  (other formulas, other operation orders, all float64) land from the reference: the largest
  absolute error, the largest error relative to the output's scale (max |a - r| / max |r|),
  and the largest ratio |a - r| / (atol + rtol |r|) under the tolerance in assignment.toml
  (<= 1 passes);
- float32: the same solution run in float32 (every array argument cast to float32 on the way
  in, clipping done on float32 copies): its smallest relative error and its smallest ratio over
  the seeds (> 1 on every seed means the tolerance alone rejects float32 arithmetic).

A tolerance is right when the float64 ratio stays far below 1 and the float32 ratio far above
it, on every seed. From the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/rnn/tools/tolerances.py [--seeds 30]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suitekit import PACKAGE, Suite, alternative_dirs, overlay  # noqa: E402

# Appended to the solution's rnn_layers.py: the same code, fed float32.
FLOAT32 = """

def _in_float32(fn):
    def wrapper(*args):
        return fn(*(
            a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
            for a in args
        ))
    return wrapper


for _name in ("sigmoid", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
              "lstm_step_forward", "lstm_step_backward", "lstm_forward", "gru_step_forward",
              "gru_step_backward"):
    globals()[_name] = _in_float32(globals()[_name])
_clip_float64 = clip_grad_norm


def clip_grad_norm(grads, max_norm):
    single = {k: v.astype(np.float32) for k, v in grads.items()}
    total = _clip_float64(single, np.float32(max_norm))
    for k, v in grads.items():
        v[...] = single[k]
    return total
"""


def float32_variant(into: Path) -> Path:
    impl = overlay([], into)
    source = (PACKAGE / "solution" / "rnn_layers.py").read_text()
    (impl / "rnn_layers.py").write_text(source + FLOAT32)
    return impl


@dataclass
class Spread:
    """One output of one case over all seeds."""

    scale: float = math.inf  # smallest max |reference|
    f64_abs: float = 0.0  # largest max |alternative - reference|
    f64_rel: float = 0.0  # largest of that over max |reference|
    f64_ratio: float = 0.0  # largest ratio under the tolerance (<= 1 passes)
    f32_rel: float = math.inf  # smallest max |float32 - reference| / max |reference|
    f32_ratio: float = math.inf  # smallest ratio of the float32 run (> 1 fails)


def ratio(got, want: np.ndarray, spec) -> float:
    """max |got - want| / (atol + rtol |want|): <= 1 passes allclose; inf if it cannot."""
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        return math.inf
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.all(np.isfinite(g)):
        return math.inf
    return float(np.max(np.abs(g - w) / (spec.atol + spec.rtol * np.abs(w)))) if w.size else 0.0


def abs_rel(got, want: np.ndarray) -> tuple[float, float]:
    """(max |got - want|, that / max |want|); inf if the shapes differ or got is not finite."""
    if not isinstance(got, np.ndarray) or got.shape != want.shape:
        return math.inf, math.inf
    g, w = got.astype(np.float64), want.astype(np.float64)
    if not np.all(np.isfinite(g)):
        return math.inf, math.inf
    err = float(np.max(np.abs(g - w))) if w.size else 0.0
    return err, err / max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)


def output(outputs: dict, case: str, key: str):
    """One output of a run, or None if the case raised."""
    got = outputs[case]
    return got.get(key) if isinstance(got, dict) else None


def measure(suite: Suite, seeds: range, alternatives: list[Path], single: Path):
    """Per (case, output): its Spread; per case: (worst float64 ratio, float32 ratio on its
    least clear seed), each the largest over the case's outputs."""
    specs = {s.name: s for s in suite.specs if s.check == "allclose"}
    spread: dict[tuple[str, str], Spread] = defaultdict(Spread)
    per_case = {case: [0.0, math.inf] for case in specs}
    for seed in seeds:
        ref = suite.reference(seed)
        runs64 = [suite.outputs(a, seed) for a in alternatives]
        run32 = suite.outputs(single, seed)
        for case, spec in specs.items():
            case32 = 0.0
            for key, want in ref[case].items():
                s = spread[case, key]
                if want.dtype.kind == "f":
                    s.scale = min(s.scale, float(np.max(np.abs(want))))
                for run in runs64:
                    got = output(run, case, key)
                    err, rel = abs_rel(got, want)
                    s.f64_abs, s.f64_rel = max(s.f64_abs, err), max(s.f64_rel, rel)
                    s.f64_ratio = max(s.f64_ratio, ratio(got, want, spec))
                    per_case[case][0] = max(per_case[case][0], s.f64_ratio)
                got = output(run32, case, key)
                s.f32_rel = min(s.f32_rel, abs_rel(got, want)[1])
                r32 = ratio(got, want, spec)
                s.f32_ratio = min(s.f32_ratio, r32)
                case32 = max(case32, r32)
            per_case[case][1] = min(per_case[case][1], case32)
    return specs, spread, per_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    args = parser.parse_args()
    suite = Suite()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            alts = [overlay(d.glob("*.py"), Path(tmp) / n) for n, d in alternative_dirs().items()]
            single = float32_variant(Path(tmp) / "float32")
            specs, spread, per_case = measure(suite, range(args.seeds), alts, single)
    finally:
        suite.close()
    print(f"{args.seeds} seeds, {len(alternative_dirs())} float64 alternatives\n")
    print(
        f"{'case':24} {'rtol':>6} {'atol':>6} | {'f64 worst ratio':>15} | {'f32 ratio, least':>16}"
    )
    for case, spec in specs.items():
        f64, f32 = per_case[case]
        print(f"{case:24} {spec.rtol:6.0e} {spec.atol:6.0e} | {f64:15.2g} | {f32:16.3g}")
    print(
        f"\n{'case.output (floats)':36} {'scale':>8} | {'f64 abs':>8} {'f64 rel':>8} "
        f"{'ratio':>8} | {'f32 rel':>8} {'ratio':>8}"
    )
    for (case, key), s in spread.items():
        if math.isfinite(s.scale):
            print(
                f"{case + '.' + key:36.36} {s.scale:8.1e} | {s.f64_abs:8.1e} {s.f64_rel:8.1e} "
                f"{s.f64_ratio:8.1e} | {s.f32_rel:8.1e} {s.f32_ratio:8.1e}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
