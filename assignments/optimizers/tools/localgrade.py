"""Grade implementations of the optimizers package in this process, judged like the worker.

Staff helper, shared by tools/kills.py, tools/tolerances.py and
tests/assignments/test_optimizers_alternatives.py. It follows tests/assignments/casekit.py
(submitted files resolve only to the implementation's folder, freshly imported for every case
as the sandbox forks a fresh process per case; ctx.rng and the global generators are seeded
per (seed, case) as grader/harness.py seeds them; per-run data comes from hidden/rundata.py)
and adds what a whole grading needs: the reference's outputs per seed, computed once, and the
worker's Judge for every case. A seed stands for the draw the self-check calls by that number
(grader.reference.Draw.of_seed: the same secret for hidden/rundata.py).

An implementation folder may hold only some of the submitted files (an alternative that
rewrites one file): the others come from solution/. `LocalGrader.mutant(name)` writes a
mutant's files (mutants/<name>.patch or mutants/<name>/) to such a folder.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.engine import Judge
from grader.package import load_package
from grader.reference import Draw
from grader.rundata import load_trusted, prepare_run
from tests.assignments.casekit import LocalContext, lay_out_data, submitted

PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CaseOutcome:
    passed: bool
    points: float
    feedback: str


class LocalGrader:
    """Grades folders of submitted files against the solution, seed by seed."""

    def __init__(self, package_dir: Path = PACKAGE) -> None:
        self.package_dir = Path(package_dir)
        self.package = load_package(self.package_dir)
        self.cases = load_trusted(
            self.package.read("hidden/cases.py"), "hidden/cases.py", "_localgrade_cases"
        )
        self.files = list(self.package.config.files)
        self.names = [f.removesuffix(".py") for f in self.files]
        self.specs = list(self.package.config.cases)
        self.max_score = float(sum(spec.points for spec in self.specs))
        self._tmp = tempfile.TemporaryDirectory(prefix="localgrade-")
        self._draws: dict[int, tuple[Path, dict, Judge]] = {}
        self._folders: dict[str, Path] = {}

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> LocalGrader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------ implementations

    def folder(self, impl: Path | str) -> Path:
        """A folder with every submitted file: impl's own, the rest from solution/."""
        impl = Path(impl)
        if not impl.is_absolute():
            impl = self.package_dir / impl
        key = str(impl)
        if key not in self._folders:
            target = Path(self._tmp.name) / f"impl{len(self._folders)}"
            target.mkdir()
            for name in self.files:
                source = (
                    impl / name if (impl / name).exists() else self.package_dir / "solution" / name
                )
                shutil.copy(source, target / name)
            self._folders[key] = target
        return self._folders[key]

    def mutant(self, name: str) -> Path:
        """A folder with the mutant's complete files (Package.mutants(): folder or patch)."""
        target = Path(self._tmp.name) / "mutants" / name
        if not target.exists():
            target.mkdir(parents=True)
            for fname, data in self.package.mutants()[name].items():
                (target / fname).write_bytes(data)
        return target

    # ------------------------------------------------------------ running cases

    def outputs(self, impl: Path | str, case: str, seed: int) -> dict[str, np.ndarray]:
        """The case's outputs for impl on this seed, as the transport delivers them."""
        data_dir = self._draw(seed)[0]
        folder = self.folder(impl)
        with submitted(folder, self.names), np.errstate(all="ignore"):
            _seed_globals(seed, case)
            result = getattr(self.cases, case)(LocalContext(case, seed, data_dir))
        return {key: _to_array(value) for key, value in result.items()}

    def grade(self, impl: Path | str, seed: int, cases: list[str] | None = None) -> dict:
        """case name -> CaseOutcome for impl on this seed (all cases unless `cases`)."""
        results = {}
        for spec in self.specs:
            if cases is not None and spec.name not in cases:
                continue
            if spec.needs_reference:
                self.reference(seed, spec.name)
            try:
                outputs = self.outputs(impl, spec.name, seed)
            except Exception as exc:  # noqa: BLE001 - the student's code raised: no points
                line = traceback.format_exception_only(type(exc), exc)[-1].strip()
                results[spec.name] = CaseOutcome(False, 0.0, f"raised {line}")
                continue
            ok, feedback = self._draw(seed)[2].check(spec, outputs)
            results[spec.name] = CaseOutcome(ok, float(spec.points) if ok else 0.0, feedback)
        return results

    def reference(self, seed: int, case: str) -> dict[str, np.ndarray]:
        """The solution's outputs of a case on this seed (computed once)."""
        known = self._draw(seed)[1]
        if case not in known:
            known[case] = self.outputs("solution", case, seed)
        return known[case]

    def _draw(self, seed: int) -> tuple[Path, dict, Judge]:
        """This seed's data folder, its reference outputs so far (filled case by case) and the
        Judge that reads them."""
        if seed not in self._draws:
            run = prepare_run(self.package, Draw.of_seed(seed).secret)
            data_dir = Path(self._tmp.name) / f"data-{seed}"
            lay_out_data(self.package, run, data_dir)
            reference: dict[str, dict[str, np.ndarray]] = {}
            self._draws[seed] = (data_dir, reference, Judge(self.package, reference, run.held))
        return self._draws[seed]


def score(results: dict) -> float:
    return sum(outcome.points for outcome in results.values())


def _seed_globals(seed: int, case: str) -> None:
    """What grader/harness.py does before each case: seed `random` and NumPy's global state."""
    state = np.random.SeedSequence([seed, zlib.crc32(case.encode())]).generate_state(1)[0]
    random.seed(int(state))
    np.random.seed(int(state))


def _to_array(value) -> np.ndarray:
    """As grader/harness.py encodes an output: a plain numeric array of the exact shape."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"an output has dtype {array.dtype}")
    return np.ascontiguousarray(array).reshape(array.shape)
