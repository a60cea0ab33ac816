"""Measure the tolerance each output needs and has, over many seeds, in this process (staff tool).

    PYTHONPATH=. .venv/bin/python assignments/backprop/tools/tolerances.py [--seeds 20]
        [--cases a,b] [--no-mutants]

For every output of every allclose case, on every seed (the self-check's draws, tools/inprocess.py):
- spread: how far correct implementations written differently (the alternatives in
  tests/assignments/alternatives/backprop/) land from the reference: the largest absolute error,
  the largest relative error (entries above 1e-8 of the output's scale) and `use`, the share of
  the case's tolerance they consume: max_i |got_i - ref_i| / (atol + rtol |ref_i|) (< 1 passes);
- float32: the `use` of the reference's own outputs rounded to float32, the least error any
  float32 computation makes; the handout requires float64 computation for float64 inputs, so this
  must be > 1 (rejected) on every seed;
- mutants: the smallest `use`, over seeds, of the weakest mutant that fails the case on values
  (a wrong shape, NaN, an exception or a boolean counts as infinite): > 1 on every seed means the
  case kills it on every draw, and the larger, the further from the tolerance.
Prints one row per output; STAFF.md quotes the figures.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import PACKAGE, REPO, Suite, folders  # noqa: E402

ALTERNATIVES = REPO / "tests" / "assignments" / "alternatives" / "backprop"
INF = math.inf


def use(got, want: np.ndarray, rtol: float, atol: float) -> float:
    """Share of the tolerance a result consumes (inf: it fails on shape, dtype family, NaN)."""
    if isinstance(got, str) or got is None:
        return INF
    g, w = np.asarray(got), np.asarray(want)
    if g.shape != w.shape or (g.dtype.kind == "f") != (w.dtype.kind == "f"):
        return INF
    if w.dtype.kind == "b" or w.dtype.kind in "iu":
        return 0.0 if np.array_equal(g, w) else INF
    g = g.astype(np.float64)
    if not np.isfinite(g).all():
        return INF
    if g.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(g - w) / (atol + rtol * np.abs(w))))


def errors(got: np.ndarray, want: np.ndarray) -> tuple[float, float]:
    """(largest absolute error, largest relative error on entries above 1e-8 of the scale)."""
    g, w = np.asarray(got, np.float64), np.asarray(want, np.float64)
    d = np.abs(g - w)
    scale = np.max(np.abs(w)) if w.size else 0.0
    big = np.abs(w) > 1e-8 * scale
    rel = float(np.max(d[big] / np.abs(w[big]))) if big.any() else 0.0
    return float(np.max(d)) if d.size else 0.0, rel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--cases", default="")
    parser.add_argument("--no-mutants", action="store_true")
    args = parser.parse_args()

    suite = Suite(PACKAGE)
    specs = [s for s in suite.config.cases if s.check == "allclose"]
    if args.cases:
        specs = [s for s in specs if s.name in set(args.cases.split(","))]
    alts = sorted(str(p) for p in ALTERNATIVES.iterdir() if p.is_dir())
    mutants = [] if args.no_mutants else [f"mutants/{m}" for m in sorted(suite.package.mutants())]
    # (case, output) -> figures
    spread_abs: dict = {}
    spread_rel: dict = {}
    spread_use: dict = {}
    f32_use: dict = {}
    # case -> mutant -> min over seeds of max over outputs of use (only mutants failing it)
    kill: dict = {}
    with folders(suite, ["solution", *alts, *mutants]) as impls:
        for seed in range(1, args.seeds + 1):
            with suite.seeded(seed) as (data_dir, _held):
                for spec in specs:
                    ref = suite.outputs(impls["solution"], spec.name, seed, data_dir)
                    assert not isinstance(ref, str), ref
                    for alt in alts:
                        got = suite.outputs(impls[alt], spec.name, seed, data_dir)
                        for key, want in ref.items():
                            k = (spec.name, key)
                            value = got if isinstance(got, str) else got.get(key)
                            u = use(value, want, spec.rtol, spec.atol)
                            spread_use[k] = max(spread_use.get(k, 0.0), u)
                            if want.dtype.kind == "f" and u < INF:
                                a, r = errors(value, want)
                                spread_abs[k] = max(spread_abs.get(k, 0.0), a)
                                spread_rel[k] = max(spread_rel.get(k, 0.0), r)
                    for key, want in ref.items():
                        if want.dtype.kind == "f":
                            u = use(want.astype(np.float32), want, spec.rtol, spec.atol)
                            k = (spec.name, key)
                            f32_use[k] = min(f32_use.get(k, INF), u)
                    for mutant in mutants:
                        got = suite.outputs(impls[mutant], spec.name, seed, data_dir)
                        worst = max(
                            use(
                                got if isinstance(got, str) else got.get(key),
                                want,
                                spec.rtol,
                                spec.atol,
                            )
                            if not isinstance(got, str) and set(got) == set(ref)
                            else INF
                            for key, want in ref.items()
                        )
                        if worst > 1.0 or kill.get(spec.name, {}).get(mutant) is not None:
                            per = kill.setdefault(spec.name, {})
                            per[mutant] = min(per.get(mutant, INF), worst)
    print(f"{args.seeds} seeds; alternatives: {', '.join(Path(a).name for a in alts)}")
    print(
        f"{'case/output':34} {'rtol':>7} {'atol':>7}  {'alt abs':>9} {'alt rel':>9} "
        f"{'alt use':>9}  {'f32 use':>9}"
    )
    for spec in specs:
        keys = [k for k in spread_use if k[0] == spec.name]
        for k in keys:
            f32 = f32_use.get(k)
            print(
                f"{k[0] + '/' + k[1]:34} {spec.rtol:7.0e} {spec.atol:7.0e}  "
                f"{spread_abs.get(k, 0.0):9.1e} {spread_rel.get(k, 0.0):9.1e} "
                f"{spread_use[k]:9.1e}  {'-' if f32 is None else f'{f32:9.1e}':>9}"
            )
    if mutants:
        print(
            "\nweakest kill per case (min over seeds of the largest tolerance use; inf: "
            "shape, NaN, error or boolean):"
        )
        for spec in specs:
            per = kill.get(spec.name, {})
            if not per:
                print(f"  {spec.name:24} (no mutant fails it)")
                continue
            finite = sorted(per.items(), key=lambda kv: kv[1])
            shown = ", ".join(f"{m.removeprefix('mutants/')} {u:.1e}" for m, u in finite[:4])
            print(f"  {spec.name:24} {len(per)} mutants; weakest: {shown}")
    bad = [k for k, u in spread_use.items() if u > 1.0]
    soft = [k for k, u in f32_use.items() if u <= 1.0]
    lottery = [(c, m) for c, per in kill.items() for m, u in per.items() if u <= 1.0]
    print(
        f"\nalternatives rejected: {bad or 'none'}; float32 accepted: {soft or 'none'}; "
        f"mutants that pass this case on some seed: {lottery or 'none'}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
