"""Which hidden cases each mutant (or alternative) loses, on many seeds, in-process (staff only).

Grades solution/ with each implementation's files on top (as the self-check grades a mutant)
through tests/assignments/casekit.py: the same ctx.rng draws and judging as the worker, no
sandbox. A case is skipped for an implementation whose files for that case are the solution's
(the NumPy cases read conv.py and pool.py, the torch cases lenet.py): it would score as the
reference does. Prints one row per implementation: killed on every seed or not, and the cases
it lost on how many seeds. Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python assignments/cnn/tools/killmatrix.py [--seeds 20]
        [--only name,name] [--cases name,name] [--dir tests/assignments/alternatives/cnn]

With --dir, every folder there is graded instead of mutants/, and the rule is full marks.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parent.parent
ROOT = PACKAGE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "assignments")]

from casekit import LocalContext, judge, lay_out_data, submitted  # noqa: E402

from grader.engine import Judge  # noqa: E402
from grader.package import load_package  # noqa: E402
from grader.rundata import load_trusted, prepare_run  # noqa: E402

CASE_FILES = {"numpy": ("conv.py", "pool.py"), "torch": ("lenet.py",)}


def overlay(tmp: Path, source: Path) -> Path:
    """solution/ with the files of `source` on top."""
    files = tmp / source.name
    shutil.copytree(PACKAGE / "solution", files)
    for f in source.glob("*.py"):
        shutil.copy(f, files / f.name)
    return files


def write_files(tmp: Path, name: str, files: dict[str, bytes]) -> Path:
    """`files` (name -> bytes) written to the folder tmp/name."""
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    for fname, data in files.items():
        (folder / fname).write_bytes(data)
    return folder


def mutant_folder(tmp: Path, name: str) -> Path:
    """The mutant's complete files (Package.mutants(): a patch or a folder) in tmp/name."""
    return write_files(tmp, name, load_package(PACKAGE).mutants()[name])


def differs(files: Path, spec) -> bool:
    """Whether any file this case reads differs from the solution's."""
    return any(
        (files / name).read_bytes() != (PACKAGE / "solution" / name).read_bytes()
        for name in CASE_FILES[spec.environment]
    )


class Runner:
    """casekit.run_case without its per-call set-up: the package, its cases and each seed's
    run data are loaded once (secret = seed)."""

    def __init__(self, package, tmp: Path) -> None:
        self.package, self.tmp = package, tmp
        self.cases = load_trusted(package.read("hidden/cases.py"), "hidden/cases.py", "_cnn_km")
        self.names = [f.removesuffix(".py") for f in package.config.files]
        self.data: dict[int, Path] = {}
        self.specs = list(package.config.cases)

    def run(self, files: Path, case: str, seed: int) -> dict:
        if seed not in self.data:
            self.data[seed] = self.tmp / f"data-{seed}"
            lay_out_data(self.package, prepare_run(self.package, seed), self.data[seed])
        with submitted(files, self.names):
            out = getattr(self.cases, case)(LocalContext(case, seed, self.data[seed]))
        return {k: np.asarray(v) for k, v in out.items()}


def lost_cases(runner: Runner, files: Path, seed: int, reference: dict) -> list[str]:
    """Cases that `files` loses on one seed; raised cases count as lost."""
    package = runner.package
    judge_ = Judge(package, reference[seed])
    lost = []
    for spec in runner.specs:
        if not differs(files, spec):
            continue
        try:
            arrays = runner.run(files, spec.name, seed)
        except Exception:
            lost.append(spec.name)
            continue
        if spec.needs_reference:
            ok = judge_.check(spec, arrays)[0]
        else:
            ok = judge(PACKAGE, spec.name, arrays, secret=seed)[0]
        if not ok:
            lost.append(spec.name)
    return lost


def reference_outputs(runner: Runner, seeds: list[int]) -> dict[int, dict]:
    specs = [s for s in runner.specs if s.needs_reference]
    return {
        seed: {s.name: runner.run(PACKAGE / "solution", s.name, seed) for s in specs}
        for seed in seeds
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=1000, help="the first seed")
    parser.add_argument("--only", default="")
    parser.add_argument("--dir", type=Path, help="grade these folders; the rule is full marks")
    parser.add_argument("--cases", default="", help="only these cases (comma-separated)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    package = load_package(PACKAGE)
    seeds = list(range(args.first, args.first + args.seeds))
    if args.dir:
        solution = package.solution_files()
        impls = {
            p.name: {**solution, **{f.name: f.read_bytes() for f in p.glob("*.py")}}
            for p in sorted(args.dir.iterdir())
            if p.is_dir()
        }
    else:
        impls = package.mutants()
    if args.only:
        impls = {label: f for label, f in impls.items() if label in args.only.split(",")}
    failures = 0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.monotonic()
        runner = Runner(package, tmp)
        if args.cases:
            runner.specs = [s for s in runner.specs if s.name in args.cases.split(",")]
        reference = reference_outputs(runner, seeds)
        print(f"reference outputs for {len(seeds)} seeds in {time.monotonic() - started:.1f} s")
        for label, impl_files in impls.items():
            started = time.monotonic()
            files = write_files(tmp, label, impl_files)
            per_seed = [lost_cases(runner, files, s, reference) for s in seeds]
            counts = Counter(name for lost in per_seed for name in lost)
            if args.dir:
                ok = not counts
                verdict = "full marks" if ok else "LOSES POINTS"
            else:
                ok = all(per_seed)
                verdict = "killed" if ok else f"SURVIVES on {sum(not x for x in per_seed)}"
            failures += not ok
            lost = ", ".join(f"{n} {c}/{len(seeds)}" for n, c in sorted(counts.items()))
            print(f"{label:36s} {verdict:14s} {time.monotonic() - started:5.1f} s  {lost}")
    print(f"{len(impls) - failures}/{len(impls)} obey their rule on all {len(seeds)} seeds")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
