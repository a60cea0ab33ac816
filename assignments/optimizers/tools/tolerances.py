"""Measure each compared case's spread: correct alternatives vs float32 arithmetic vs the mutants.

Staff tool. Run from the repository root:
    PYTHONPATH=. .venv/bin/python assignments/optimizers/tools/tolerances.py [--seeds 20]

For every case judged with allclose it runs, on seeds 1..N (tools/localgrade.py, no Docker),
the reference solution and
- the correct alternatives in tests/assignments/alternatives/optimizers/ (written differently;
  torch_oracle is torch.optim itself, skipped when torch is missing): their distance from the
  reference is the float64 noise floor that the tolerance must clear with a wide margin;
- a float32 variant of the solution (generated here: every update computed in float32 and
  written back into the float64 parameters): the handout requires float64 arithmetic, so the
  tolerance must reject it on every seed;
- every mutant.

It prints, per case: the largest absolute and relative error of any alternative on any seed
(relative: over entries with |ref| >= 1e-6; smaller ones fall under atol); the float32
variant's on its best seed; and, with the case's rtol/atol from assignment.toml, the ratio
q = max |x - ref| / (atol + rtol |ref|) (allclose passes iff q <= 1). The alternatives' worst q
must be far below 1; float32's best-seed q far above 1, and so the q of the mutants the case
catches on every seed (the nearest is shown, and any it catches on some seeds only). Then, per
mutant, the case that catches it by the widest margin. --rtol/--atol try a candidate on the
optimizer cases (lr_schedules keeps its own: plain Python floats, no float32 variant).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parents[1]
sys.path.insert(0, str(ROOT))

from assignments.optimizers.tools.localgrade import LocalGrader  # noqa: E402

ALTERNATIVES = ROOT / "tests" / "assignments" / "alternatives" / "optimizers"
FLOAT32_STEP = '''

def _step_in_float32(self, grads):
    """Every update computed in float32, written back into the float64 parameters."""
    for p, g, state in zip(self.params, grads, self.state, strict=True):
        p32 = p.astype(np.float32)
        self._update(p32, np.asarray(g, dtype=np.float32), state)
        p[...] = p32


Optimizer.step = _step_in_float32
'''


def float32_variant(folder: Path) -> Path:
    """The solution's files, with Optimizer.step computing in float32."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("schedule.py", "minibatch.py"):
        (folder / name).write_text((PACKAGE / "solution" / name).read_text())
    source = (PACKAGE / "solution" / "optim.py").read_text()
    (folder / "optim.py").write_text(source + FLOAT32_STEP)
    return folder


def errors(got: dict, want: dict, rtol: float, atol: float) -> tuple[float, float, float]:
    """(max abs error, max relative error where |ref| >= 1e-6, allclose ratio q) over outputs;
    inf when an output is missing, misshapen or not finite."""
    worst = [0.0, 0.0, 0.0]
    for key, ref in want.items():
        if key not in got or got[key].shape != ref.shape:
            return (np.inf, np.inf, np.inf)
        x, r = got[key].astype(np.float64), ref.astype(np.float64)
        if not np.isfinite(x).all():
            return (np.inf, np.inf, np.inf)
        diff = np.abs(x - r)
        big = np.abs(r) >= 1e-6
        rel = float((diff[big] / np.abs(r[big])).max()) if big.any() else 0.0
        q = float((diff / (atol + rtol * np.abs(r))).max()) if diff.size else 0.0
        worst = [max(worst[0], float(diff.max(initial=0.0))), max(worst[1], rel), max(worst[2], q)]
    return tuple(worst)


def measure(seeds: range, rtol: float | None, atol: float | None) -> None:
    alternatives = sorted(p for p in ALTERNATIVES.iterdir() if p.is_dir())
    try:
        import torch  # noqa: F401
    except ImportError:
        alternatives = [a for a in alternatives if a.name != "torch_oracle"]
    with LocalGrader() as grader, tempfile.TemporaryDirectory() as tmp:
        mutants = [grader.mutant(name) for name in grader.package.mutants()]
        f32 = float32_variant(Path(tmp) / "float32")
        specs = [s for s in grader.specs if s.check == "allclose"]
        if rtol is not None:  # a candidate for the optimizer cases, not the toml's
            specs = [
                s if s.name == "lr_schedules" else replace(s, rtol=rtol, atol=atol) for s in specs
            ]
        names = [a.name for a in alternatives]
        print(f"seeds {seeds.start}..{seeds.stop - 1}; alternatives: {', '.join(names)}")
        print(
            f"{'case':26} {'rtol':>6} {'atol':>6} | {'alt abs':>8} {'alt rel':>8} {'alt q':>8} | "
            f"{'f32 rel':>8} {'f32 q':>8} | nearest mutant caught on every seed (its best-seed q)"
        )
        margins: dict[str, dict[str, float]] = {m.name: {} for m in mutants}
        for spec in specs:
            qmin = case_row(grader, spec, seeds, alternatives, f32, mutants)
            for name, q in qmin.items():
                margins[name][spec.name] = q
        print(
            "\nper mutant: the case that catches it by the widest margin (best-seed q; inf: raises)"
        )
        for name, by_case in margins.items():
            case, q = max(by_case.items(), key=lambda kv: kv[1])
            note = f"{case} (q >= {q:.1e})" if q > 1 else "only the custom-checked cases"
            print(f"  {name:40} {note}")


def case_row(grader, spec, seeds, alternatives, f32, mutants) -> dict[str, float]:
    """Print one case's figures; return each mutant's smallest q over the seeds."""
    alt = [0.0, 0.0, 0.0]
    f32_best = [np.inf, np.inf, np.inf]
    qmin: dict[str, float] = {}
    qmax: dict[str, float] = {}
    for seed in seeds:
        ref = grader.reference(seed, spec.name)
        for folder in alternatives:
            e = errors(grader.outputs(folder, spec.name, seed), ref, spec.rtol, spec.atol)
            alt = [max(a, b) for a, b in zip(alt, e, strict=True)]
        e = _safe(grader, f32, spec.name, seed, ref, spec)
        f32_best = [min(a, b) for a, b in zip(f32_best, e, strict=True)]
        for folder in mutants:
            q = _safe(grader, folder, spec.name, seed, ref, spec)[2]
            qmin[folder.name] = min(qmin.get(folder.name, np.inf), q)
            qmax[folder.name] = max(qmax.get(folder.name, 0.0), q)
    caught = {m: q for m, q in qmin.items() if q > 1}
    nearest = min(caught.items(), key=lambda kv: kv[1]) if caught else ("-", np.nan)
    lottery = sorted(m for m, q in qmax.items() if q > 1 and m not in caught)
    f32_text = (
        f"{f32_best[1]:8.1e} {f32_best[2]:8.1e}" if f32_best[1] > 0 else f"{'n/a':>8} {'n/a':>8}"
    )
    print(
        f"{spec.name:26} {spec.rtol:6.0e} {spec.atol:6.0e} | {alt[0]:8.1e} {alt[1]:8.1e} "
        f"{alt[2]:8.1e} | {f32_text} | {nearest[0]} ({nearest[1]:.1e}; {len(caught)} mutants)"
        + (f"; on some seeds only: {', '.join(lottery)}" if lottery else "")
    )
    return qmin


def _safe(grader, folder, case, seed, ref, spec) -> tuple[float, float, float]:
    try:
        return errors(grader.outputs(folder, case, seed), ref, spec.rtol, spec.atol)
    except Exception:  # noqa: BLE001 - a mutant that raises is caught by the case outright
        return (np.inf, np.inf, np.inf)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rtol", type=float, help="a candidate for every optimizer case")
    parser.add_argument("--atol", type=float, default=0.0)
    args = parser.parse_args()
    measure(range(1, args.seeds + 1), args.rtol, args.atol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
