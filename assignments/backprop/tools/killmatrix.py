"""Which cases kill each mutant, on every one of many seeds, in this process (staff tool).

    PYTHONPATH=. .venv/bin/python assignments/backprop/tools/killmatrix.py [--seeds 20]
        [--seed N ...] [--only a,b] [--alt DIR ...] [--cases a,b]

The Docker self-check (scripts/selfcheck.py) is the final word; this runs the same cases on the
same draws (tools/inprocess.py) in seconds, so a suite can be tuned on 20+ seeds. One line per
implementation: the cases it lost on EVERY seed (what reliably kills it), the cases it lost on
some seeds only (draw-dependent), the seeds on which it kept full marks, and its score range.
Exit 1 unless the reference and every --alt scores 100 and every mutant loses points on every
seed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import PACKAGE, Suite, folders  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds 1..N unless --seed is given")
    parser.add_argument("--seed", type=int, action="append", help="a seed to replay (repeat)")
    parser.add_argument("--only", default="", help="comma-separated mutant names")
    parser.add_argument("--alt", action="append", default=[], help="a folder of correct files")
    parser.add_argument("--cases", default="", help="comma-separated case names")
    parser.add_argument("--no-starter", action="store_true")
    args = parser.parse_args()

    suite = Suite(PACKAGE)
    names = sorted(suite.package.mutants())
    if args.only:
        names = [n for n in names if n in set(args.only.split(","))]
    labels = ["solution", *args.alt, *([] if args.no_starter else ["starter"])]
    labels += [f"mutants/{n}" for n in names]
    seeds = args.seed or list(range(1, args.seeds + 1))
    cases = args.cases.split(",") if args.cases else None
    start = time.perf_counter()
    per_seed = []
    with folders(suite, labels) as impls:
        for seed in seeds:
            per_seed.append(suite.grade(impls, seed, cases))
    ok = True
    print(f"{'implementation':42} {'score':>9}  {'lost on every seed':40} draw-dependent")
    for label in labels:
        runs = [report[label] for report in per_seed]
        scores = [sum(v.points for v in run) for run in runs]
        lost = [{v.case for v in run if not v.ok} for run in runs]
        always = set.intersection(*lost)
        sometimes = set.union(*lost) - always
        full = sum(suite.specs[c].points for c in (cases or suite.specs))
        if label == "starter":
            good = max(scores) == 0
        elif label.startswith("mutants/"):
            survived = [seed for seed, s in zip(seeds, scores, strict=True) if s >= full]
            good = not survived
            if survived:
                sometimes.add(f"SURVIVES seeds {survived}")
        else:
            good = min(scores) >= full
            if not good:
                bad = {v.case: v.feedback for run in runs for v in run if not v.ok}
                sometimes.add(f"LOSES {bad}")
        ok &= good
        score = f"{min(scores):g}-{max(scores):g}"
        print(
            f"{label:42} {score:>9}  {','.join(sorted(always)) or '-':40} "
            f"{','.join(sorted(sometimes)) or '-'}"
        )
    print(f"{len(seeds)} seeds, {len(labels)} implementations, {time.perf_counter() - start:.1f} s")
    print("PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
