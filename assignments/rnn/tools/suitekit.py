"""Grade rnn implementations in this process over many seeds, with margins (staff tools only).

The worker's rules, without a sandbox (tests/assignments/casekit.py): submitted modules resolve
to the implementation's own files, `ctx.rng` is seeded from (seed, case), the run's data comes
from hidden/rundata.py with secret = seed, forbidden imports refuse the whole submission, and
each case is judged by the grader's own Judge against the reference's outputs on the same seed.

On top of pass/fail it measures how far each allclose case is from its tolerance:

    ratio = max over outputs and entries of |got - want| / (atol + rtol * |want|)

(a case passes allclose exactly when ratio <= 1). A correct alternative should sit far below 1
on every seed, a mutant far above 1 on its killing case on every seed; inf marks a missing
output, a wrong shape, a non-finite value or an exception.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parent.parent
ROOT = PACKAGE.parents[1]
ALTERNATIVES = ROOT / "tests" / "assignments" / "alternatives" / "rnn"
for _path in (str(ROOT), str(ROOT / "tests" / "assignments")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from casekit import LocalContext, lay_out_data, submitted  # noqa: E402

from grader.engine import Judge  # noqa: E402
from grader.forbidden import check_forbidden  # noqa: E402
from grader.package import CaseSpec, load_package  # noqa: E402
from grader.rundata import RunData, load_trusted, prepare_run  # noqa: E402

TRAINING = "train_adding"


@dataclass
class Graded:
    """One implementation on one seed: per case, passed or not, its ratio and the feedback."""

    passed: dict[str, bool] = field(default_factory=dict)
    ratio: dict[str, float] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)
    score: float = 0.0


class Suite:
    """The package's cases, run in-process on any implementation folder."""

    def __init__(self, package_dir: Path = PACKAGE, training: bool = False) -> None:
        self.package = load_package(package_dir)
        self.cases = load_trusted(
            self.package.read("hidden/cases.py"), "hidden/cases.py", "_rnn_cases_inprocess"
        )
        self.specs: list[CaseSpec] = [
            c for c in self.package.config.cases if training or c.name != TRAINING
        ]
        self.names = [f.removesuffix(".py") for f in self.package.config.files]
        self._tmp = Path(tempfile.mkdtemp(prefix="rnn-suitekit-"))
        self._reference: dict[int, dict] = {}
        self._runs: dict[int, RunData] = {}
        self._forbidden: dict[tuple, list[str]] = {}

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _run(self, seed: int) -> RunData:
        if seed not in self._runs:
            self._runs[seed] = prepare_run(self.package, seed)
        return self._runs[seed]

    def _data_dir(self, seed: int) -> Path:
        data_dir = self._tmp / f"data-{seed}"
        if not data_dir.exists():
            lay_out_data(self.package, self._run(seed), data_dir)
        return data_dir

    def outputs(
        self, files_dir: Path, seed: int, only: Iterable[str] | None = None
    ) -> dict[str, dict | BaseException]:
        """Each case's outputs (or the exception it raised) for the files in files_dir."""
        results: dict[str, dict | BaseException] = {}
        for spec in self._specs(only):
            with submitted(files_dir, self.names):
                try:
                    ctx = LocalContext(spec.name, seed, self._data_dir(seed))
                    out = getattr(self.cases, spec.name)(ctx)
                    results[spec.name] = {k: np.asarray(v) for k, v in out.items()}
                except Exception as exc:  # a failing case only loses its own points
                    results[spec.name] = exc
        return results

    def reference(self, seed: int) -> dict[str, dict]:
        if seed not in self._reference:
            out = self.outputs(PACKAGE / "solution", seed)
            broken = {k: v for k, v in out.items() if isinstance(v, BaseException)}
            if broken:
                raise RuntimeError(f"the reference raised on seed {seed}: {broken}")
            self._reference[seed] = out
        return self._reference[seed]

    def grade(self, files_dir: Path, seed: int, only: Iterable[str] | None = None) -> Graded:
        """Score and margins of the implementation in files_dir on one seed (on the cases in
        `only`, if given: a quick look at one case)."""
        graded = Graded()
        specs = self._specs(only)
        refused = self._refused(files_dir)
        reference = self.reference(seed)
        outputs = (
            {s.name: RuntimeError("; ".join(refused)) for s in specs}
            if refused
            else self.outputs(files_dir, seed, only)
        )
        judge = Judge(self.package, reference, self._run(seed).held)
        for spec in specs:
            out = outputs[spec.name]
            if isinstance(out, BaseException):
                ok, message, ratio = False, f"{type(out).__name__}: {out}", np.inf
            else:
                ok, message = judge.check(spec, out)
                ratio = _ratio(spec, out, reference.get(spec.name, {}))
            graded.passed[spec.name] = ok
            graded.feedback[spec.name] = message
            graded.ratio[spec.name] = ratio
            graded.score += spec.points if ok else 0.0
        return graded

    def _specs(self, only: Iterable[str] | None) -> list[CaseSpec]:
        if only is None:
            return self.specs
        wanted = set(only)
        return [s for s in self.specs if s.name in wanted]

    def _refused(self, files_dir: Path) -> list[str]:
        """The forbidden-import findings for these files (remembered: the scan is slow)."""
        files = {f"{n}.py": (files_dir / f"{n}.py").read_bytes() for n in self.names}
        key = tuple(sorted(files.items()))
        if key not in self._forbidden:
            self._forbidden[key] = check_forbidden(files, self.package.config)
        return self._forbidden[key]

    @property
    def max_score(self) -> float:
        return float(sum(s.points for s in self.specs))


def _ratio(spec: CaseSpec, got: dict, want: dict) -> float:
    """How far an allclose case is from failing (<= 1 passes); nan for other checks."""
    if spec.check != "allclose":
        return float("nan")
    if set(got) != set(want):
        return np.inf
    worst = 0.0
    for key, w in want.items():
        g = got[key]
        if g.shape != w.shape or (g.dtype.kind == "f") != (w.dtype.kind == "f"):
            return np.inf
        g, w = g.astype(np.float64), w.astype(np.float64)
        if not np.all(np.isfinite(g)):
            return np.inf
        if g.size:
            worst = max(worst, float(np.max(np.abs(g - w) / (spec.atol + spec.rtol * np.abs(w)))))
    return worst


def overlay(files: Iterable[Path], into: Path) -> Path:
    """The solution with `files` laid over it, as the self-check builds a mutant."""
    into.mkdir(parents=True, exist_ok=True)
    for f in (PACKAGE / "solution").glob("*.py"):
        shutil.copy(f, into / f.name)
    for f in files:
        shutil.copy(f, into / f.name)
    return into


def mutants(only: set[str] | None = None) -> dict[str, dict[str, bytes]]:
    """Mutant name -> its complete files, as the self-check builds them (Package.mutants())."""
    built = load_package(PACKAGE).mutants()
    return {name: files for name, files in built.items() if only is None or name in only}


def lay_out(files: dict[str, bytes], into: Path) -> Path:
    """`files` written to the folder `into`."""
    into.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (into / name).write_bytes(data)
    return into


def alternative_dirs() -> dict[str, Path]:
    if not ALTERNATIVES.is_dir():
        return {}
    return {p.name: p for p in sorted(ALTERNATIVES.iterdir()) if p.is_dir()}
