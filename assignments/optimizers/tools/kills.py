"""Which cases catch each mutant, on how many seeds: the self-check's rules, in this process.

Staff tool. Run from the repository root:
    PYTHONPATH=. .venv/bin/python assignments/optimizers/tools/kills.py [--seeds 20] [--only a,b]
        [--alternatives]

Grades the reference, the starter and every mutant (tools/localgrade.py: no Docker) on seeds
1..N and prints, per implementation, its scores' range, on how many seeds it obeys its rule
(reference: full marks; starter: 0; mutant: loses points) and the cases it loses on EVERY seed
(those catch it by construction) and on only some (those depend on the draw). With
--alternatives it also grades tests/assignments/alternatives/optimizers/* (must score full
marks). Exits 1 if any rule breaks on any seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
ROOT = PACKAGE.parents[1]
sys.path.insert(0, str(ROOT))

from assignments.optimizers.tools.localgrade import LocalGrader, score  # noqa: E402

ALTERNATIVES = ROOT / "tests" / "assignments" / "alternatives" / "optimizers"


def implementations(
    grader: LocalGrader, only: set[str] | None, alternatives: bool
) -> list[tuple[str, str, Path]]:
    """(label, kind, folder) for everything to grade."""
    found = [
        ("reference", "reference", PACKAGE / "solution"),
        ("starter", "starter", PACKAGE / "starter"),
    ]
    for name in grader.package.mutants():
        if only is None or name in only:
            found.append((f"mutants/{name}", "mutant", grader.mutant(name)))
    if alternatives:
        for folder in sorted(p for p in ALTERNATIVES.iterdir() if p.is_dir()):
            found.append((f"alternatives/{folder.name}", "alternative", folder))
    return found


def obeys(kind: str, points: float, full: float) -> bool:
    if kind in ("reference", "alternative"):
        return points >= full - 1e-9
    if kind == "starter":
        return points <= 1e-9
    return points < full - 1e-9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated mutant names")
    parser.add_argument("--alternatives", action="store_true")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    seeds = range(1, args.seeds + 1)
    broken = 0
    with LocalGrader() as grader:
        print(f"{'implementation':44} {'scores':>11} {'rule':>7}  lost on every seed | on some")
        for label, kind, folder in implementations(grader, only, args.alternatives):
            start = time.perf_counter()
            runs = [grader.grade(folder, seed) for seed in seeds]
            points = [score(run) for run in runs]
            held = sum(obeys(kind, p, grader.max_score) for p in points)
            broken += held < len(runs)
            always = [c for c in runs[0] if all(not run[c].passed for run in runs)]
            some = [c for c in runs[0] if c not in always and any(not r[c].passed for r in runs)]
            span = f"{min(points):g}-{max(points):g}"
            flag = "" if held == len(runs) else "  <-- BROKEN"
            print(
                f"{label:44} {span:>11} {held:>3}/{len(runs):<3}  {', '.join(always) or '-'}"
                f" | {', '.join(some) or '-'}  ({time.perf_counter() - start:.1f} s){flag}"
            )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
