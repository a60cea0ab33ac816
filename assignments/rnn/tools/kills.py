"""Every mutant killed, every correct alternative at full marks, on every one of many seeds.

In-process (tools/suitekit.py: the worker's cases, Judge and forbidden-import rule, no
sandbox), so 20 seeds take seconds, not the Docker self-check's minutes. For each mutant: on
how many seeds it lost points, the cases that caught it on every seed, and its margin on its
least clear seed (the largest error / tolerance ratio among the cases it lost there; inf for an
exception, a wrong shape or a refused import). For the reference and each alternative under
tests/assignments/alternatives/rnn/: the score on every seed and the largest ratio anywhere
(full marks need <= 1; far below 1 is what keeps correct code safe). From the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/rnn/tools/kills.py [--seeds 20] [--first 0]
        [--only a,b] [--training]

--training adds train_adding (seconds per implementation and seed). Exits 1 if a mutant keeps
full marks on any seed or a correct implementation loses points on any seed.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suitekit import (  # noqa: E402
    PACKAGE,
    Graded,
    Suite,
    alternative_dirs,
    lay_out,
    mutants,
    overlay,
)


def _margin(graded: Graded) -> float:
    """The clearest loss on one seed: the largest ratio among lost cases (a lost custom case,
    which has no ratio, counts as clearly lost); 0 if nothing was lost."""
    lost = [graded.ratio[c] for c, ok in graded.passed.items() if not ok]
    return max((math.inf if math.isnan(r) else r for r in lost), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--only", default="", help="comma-separated mutants to keep")
    parser.add_argument("--training", action="store_true", help="also grade train_adding")
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    suite = Suite(training=args.training)
    ok = True
    try:
        with tempfile.TemporaryDirectory() as tmp:
            correct = {"reference": PACKAGE / "solution", **alternative_dirs()}
            print(f"{'correct implementation':34} {'full marks':>10}  worst ratio (<= 1 passes)")
            for name, folder in correct.items():
                impl = overlay(folder.glob("*.py"), Path(tmp) / f"ok-{name}")
                runs = [suite.grade(impl, s) for s in seeds]
                full = sum(r.score >= suite.max_score for r in runs)
                worst = max(v for r in runs for v in r.ratio.values() if not math.isnan(v))
                print(f"{name:34} {full:>4}/{len(runs):<5}  {worst:.2g}")
                for seed, r in zip(seeds, runs, strict=True):
                    for case, passed in r.passed.items():
                        if not passed:
                            print(f"    seed {seed}: {case}: {r.feedback[case]}")
                ok &= full == len(runs)

            only = set(args.only.split(",")) if args.only else None
            print(f"\n{'mutant':34} {'killed':>10}  {'margin':>8}  caught on every seed by")
            for name, files in mutants(only).items():
                impl = lay_out(files, Path(tmp) / f"mutant-{name}")
                runs = [suite.grade(impl, s) for s in seeds]
                killed = sum(r.score < suite.max_score for r in runs)
                always = [c for c in runs[0].passed if all(not r.passed[c] for r in runs)]
                margin = min(_margin(r) for r in runs)
                caught = "every case" if len(always) == len(suite.specs) else ", ".join(always)
                print(f"{name:34} {killed:>4}/{len(runs):<5}  {margin:8.2g}  {caught}")
                ok &= killed == len(runs)
    finally:
        suite.close()
    print("\nPASSED" if ok else "\nFAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
