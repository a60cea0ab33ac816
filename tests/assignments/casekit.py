"""Run a package's hidden cases in this process (no sandbox) and judge them like the worker.

For staff tests of a suite (margins over many secrets, attacks on training cases). It mirrors
the harness: submitted modules resolve only to files in `files_dir`, `ctx.rng` is seeded from
(seed, case), per-run data from hidden/rundata.py is made from `secret` and laid out as the
sandbox sees it (`ctx.data("run/<name>.npy")`), and the check gets the held-out arrays.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np

from grader.engine import Judge
from grader.package import Package, load_package
from grader.rundata import RunData, load_trusted, prepare_run


class LocalContext:
    """What a case function receives, as the harness builds it (CPU only)."""

    def __init__(self, case: str, seed: int, data_dir: Path, device: str = "cpu") -> None:
        self.case = case
        self.device = device
        self.rng = np.random.default_rng([seed, zlib.crc32(case.encode())])
        self._data = data_dir

    def module(self, name: str):
        return importlib.import_module(name)

    def data(self, name: str) -> str:
        return str(self._data / name)


def load_file(name: str, path: Path) -> ModuleType:
    """Import the file at `path` as module `name` (a private name: no sys.path, no clash with
    the student-facing module names). It is registered in sys.modules before it runs, since
    dataclasses look their module up while the class is built."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Finder:
    def __init__(self, files_dir: Path, names: list[str]) -> None:
        self.files_dir, self.names = files_dir, set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, self.files_dir / f"{fullname}.py")


@contextlib.contextmanager
def submitted(files_dir: Path, names: list[str]) -> Iterator[None]:
    """Within the block, `import <name>` loads files_dir/<name>.py (fresh each time)."""
    saved = {n: sys.modules.pop(n) for n in names if n in sys.modules}
    finder = _Finder(Path(files_dir), names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for n in names:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


def lay_out_data(package: Package, run: RunData, data_dir: Path) -> None:
    """hidden/data/ of the package plus the run's data under run/, as the bundle ships them."""
    for rel, raw in package.folder("hidden/data").items():
        (data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / rel).write_bytes(raw)
    (data_dir / "run").mkdir(parents=True, exist_ok=True)
    for name, array in run.data.items():
        np.save(data_dir / "run" / f"{name}.npy", array, allow_pickle=False)


def run_case(
    package_dir: Path, files_dir: Path, case: str, *, seed: int, secret: int, tmp_path: Path
) -> dict:
    """The case's returned outputs for the files in files_dir (solution/, starter/, ...)."""
    package = load_package(package_dir)
    data_dir = tmp_path / f"data-{secret}"
    lay_out_data(package, prepare_run(package, secret), data_dir)
    cases = load_trusted(package.read("hidden/cases.py"), "hidden/cases.py", "_dlgrader_cases")
    names = [f.removesuffix(".py") for f in package.config.files]
    with submitted(Path(files_dir), names):
        return getattr(cases, case)(LocalContext(case, seed, data_dir))


def judge(package_dir: Path, case: str, outputs: dict, *, secret: int) -> tuple[bool, str]:
    """(passed, feedback) of a case that needs no reference outputs (metric, held-out checks)."""
    package = load_package(package_dir)
    spec = next(c for c in package.config.cases if c.name == case)
    arrays = {k: np.asarray(v) for k, v in outputs.items()}
    return Judge(package, {}, prepare_run(package, secret).held).check(spec, arrays)


BLOCK_AND_RUN = """
import sys
from importlib.abc import MetaPathFinder


class Absent(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "scipy", "sklearn"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Absent())
from pathlib import Path
import tempfile
from casekit import run_case
from grader.package import load_package

package_dir, impl = Path(sys.argv[1]), sys.argv[2]
config = load_package(package_dir).config
names = [c.name for c in config.cases if c.environment == "numpy"]
with tempfile.TemporaryDirectory() as tmp:
    for name in names:
        run_case(package_dir, package_dir / impl, name, seed=1, secret=1, tmp_path=Path(tmp))
assert "torch" not in sys.modules
print("ran", len(names))
"""


def run_without_torch(package_dir: Path, impl: str = "solution") -> str:
    """Run every "numpy"-environment case on `impl` in a process where torch, scipy and sklearn
    cannot be imported (as in the numpy sandbox image); return its output."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(Path(__file__).parent)])}
    run = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_RUN, str(package_dir), impl],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run.stdout
