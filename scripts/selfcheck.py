"""Self-check an assignment package folder in Docker, without the web app or a database.

    .venv/bin/python scripts/selfcheck.py assignments/cnn [--seeds 5] [--seed 11 --seed 12]
        [--workers 2] [--only mutant_a,mutant_b]

Prints the table (every implementation on every seed, the kill rate, the seeds to replay) and
exits 1 unless the check passes. `--only` keeps the reference, the starter and the named
mutants (for quick iteration on a few). `flask --app webapp assignments check` does the same
for stored suites and records the report.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.package import load_package  # noqa: E402
from grader.sandbox import DockerSandbox  # noqa: E402
from grader.selfcheck import DEFAULT_SEEDS, format_table, fresh_seeds, run_selfcheck  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="fresh seeds to draw")
    parser.add_argument("--seed", type=int, action="append", help="a seed to replay (repeat)")
    parser.add_argument("--workers", type=int, default=2, help="containers at once")
    parser.add_argument("--only", default="", help="comma-separated mutant names to keep")
    args = parser.parse_args()

    package = load_package(args.folder)
    only = set(args.only.split(",")) if args.only else None
    if only and (unknown := only - set(package.mutants())):
        parser.error(f"no such mutants: {', '.join(sorted(unknown))}")
    sandbox = DockerSandbox()
    seeds = args.seed or fresh_seeds(args.seeds)
    try:
        report = run_selfcheck(package, sandbox, workers=args.workers, seeds=seeds, only=only)
    finally:
        sandbox.close()
    print(format_table(report))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
