"""Grade implementations of the backprop suite in this process, judged like the worker (staff tool).

No Docker: each case runs here with the submitted files importable (tests/assignments/casekit.py),
`ctx.rng` and the global generators seeded as the harness seeds them, and the per-run digits made
from the secret a self-check seed stands for (grader.reference.Draw.of_seed), so `--seed N` here
and in scripts/selfcheck.py draw the same inputs. Outputs are judged by grader.engine.Judge
against the solution's outputs for the same seed. Used by tools/killmatrix.py,
tools/tolerances.py and tests/assignments/test_backprop_alternatives.py.
"""

from __future__ import annotations

import random
import sys
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parents[1]
REPO = PACKAGE.parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # grader/, tests/

from grader.engine import Judge  # noqa: E402
from grader.package import Package, load_package  # noqa: E402
from grader.reference import Draw  # noqa: E402
from grader.rundata import load_trusted, prepare_run  # noqa: E402
from tests.assignments.casekit import LocalContext, lay_out_data, submitted  # noqa: E402

Outputs = dict[str, np.ndarray]


@dataclass(frozen=True)
class Verdict:
    """One case of one implementation on one seed."""

    case: str
    ok: bool
    points: float
    feedback: str


class Suite:
    """The package's cases, run on any folder of submitted files, one seed at a time."""

    def __init__(self, package_dir: Path = PACKAGE) -> None:
        self.package_dir = Path(package_dir)
        self.package: Package = load_package(self.package_dir)
        self.config = self.package.config
        self.cases = load_trusted(
            self.package.read("hidden/cases.py"), "hidden/cases.py", "_backprop_inprocess_cases"
        )
        self.names = [f.removesuffix(".py") for f in self.config.files]
        self.specs = {spec.name: spec for spec in self.config.cases}

    @contextmanager
    def seeded(self, seed: int) -> Iterator[tuple[Path, dict]]:
        """(data folder laid out as the sandbox sees it, held-out arrays) for the seed's draw."""
        run = prepare_run(self.package, Draw.of_seed(seed).secret)
        with tempfile.TemporaryDirectory() as tmp:
            lay_out_data(self.package, run, Path(tmp))
            yield Path(tmp), run.held

    def outputs(self, files_dir: Path, case: str, seed: int, data_dir: Path) -> Outputs | str:
        """The case's outputs as arrays, or the text of the exception it raised."""
        _seed_globals(seed, case)
        with submitted(Path(files_dir), self.names), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = getattr(self.cases, case)(LocalContext(case, seed, data_dir))
            except Exception as exc:  # noqa: BLE001 - the student's code raised: the case fails
                return f"error: {type(exc).__name__}: {exc}"
        return {k: np.asarray(v) for k, v in result.items()}

    def grade(
        self, impls: dict[str, Path], seed: int, cases: Iterable[str] | None = None
    ) -> dict[str, list[Verdict]]:
        """Every implementation's verdicts on one seed (the solution's outputs are the
        reference; it is graded too, as "reference", unless impls already names it)."""
        wanted = [c for c in self.specs if cases is None or c in set(cases)]
        with self.seeded(seed) as (data_dir, held):
            reference = {}
            for case in wanted:
                if self.specs[case].needs_reference:
                    got = self.outputs(self.package_dir / "solution", case, seed, data_dir)
                    if isinstance(got, str):
                        raise RuntimeError(f"the solution fails {case} on seed {seed}: {got}")
                    reference[case] = got
            judge = Judge(self.package, reference, held)
            report = {}
            for label, files_dir in impls.items():
                verdicts = []
                for case in wanted:
                    got = self.outputs(files_dir, case, seed, data_dir)
                    spec = self.specs[case]
                    if isinstance(got, str):
                        ok, feedback = False, got
                    else:
                        ok, feedback = judge.check(spec, got)
                    verdicts.append(Verdict(case, ok, spec.points if ok else 0.0, feedback))
                report[label] = verdicts
            return report


@contextmanager
def folders(suite: Suite, which: Iterable[str]) -> Iterator[dict[str, Path]]:
    """Folders of complete submissions: "solution", "starter", "mutants/<name>" (laid over the
    solution, as the self-check does) or any folder path (an alternative)."""
    mutants = suite.package.mutants()
    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for label in which:
            if label in ("solution", "starter"):
                out[label] = suite.package_dir / label
            elif label.startswith("mutants/"):
                folder = Path(tmp) / label
                folder.mkdir(parents=True)
                for fname, data in mutants[label.removeprefix("mutants/")].items():
                    (folder / fname).write_bytes(data)
                out[label] = folder
            else:
                out[label] = Path(label)
        yield out


def _seed_globals(seed: int, case: str) -> None:
    """As grader/harness.py does per case: unseeded student code is deterministic per case."""
    state = np.random.SeedSequence([seed, zlib.crc32(case.encode())]).generate_state(1)[0]
    random.seed(int(state))
    np.random.seed(int(state))
