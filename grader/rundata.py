"""Per-run data made by trusted code on the worker: what a run's sandbox gets, what it never sees.

A package may have `hidden/rundata.py` (trusted instructor code, executed on the worker only)
defining

    def prepare(rng: numpy.random.Generator, private: Callable[[str], np.ndarray])
        -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]

It returns `(data, held)`. `data` arrays are shipped into this run's sandbox as
`hidden/data/run/<name>.npy` (cases read them with `np.load(ctx.data("run/<name>.npy"))`);
`held` arrays stay on the worker and are passed to the custom checks (held-out inputs and
labels). `rng` is seeded from the run's secret, which never enters any sandbox, so a
per-run transform drawn from it (a label permutation, an input permutation, a split) cannot
be recomputed from inside. `private(name)` reads `hidden/private/<name>` (.npy, no pickles),
a folder that is never shipped into a sandbox either.
"""

from __future__ import annotations

import io
import re
import types
from dataclasses import dataclass, field

import numpy as np

from grader.package import Package

RUNDATA_FILE = "hidden/rundata.py"
PRIVATE_DIR = "hidden/private"
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


class RunDataError(RuntimeError):
    """hidden/rundata.py is broken (the suite's fault, never the student's)."""


@dataclass(frozen=True)
class RunData:
    data: dict[str, np.ndarray] = field(default_factory=dict)  # into the sandbox
    held: dict[str, np.ndarray] = field(default_factory=dict)  # stays on the worker


def load_trusted(source: bytes, origin: str, name: str) -> types.ModuleType:
    """Execute a package's trusted module (checks.py, rundata.py) on the worker."""
    module = types.ModuleType(name)
    module.__file__ = origin
    exec(compile(source, origin, "exec"), module.__dict__)
    return module


def prepare_run(package: Package, secret: int) -> RunData:
    """The run's data for `secret` (deterministic: the reference run of a draw sees the same)."""
    if RUNDATA_FILE not in package.names():
        return RunData()
    module = load_trusted(package.read(RUNDATA_FILE), RUNDATA_FILE, "_dlgrader_rundata")
    private_files = package.folder(PRIVATE_DIR)

    def private(name: str) -> np.ndarray:
        if name not in private_files:
            raise RunDataError(f"{PRIVATE_DIR}/{name} is missing")
        return np.load(io.BytesIO(private_files[name]), allow_pickle=False)

    try:
        data, held = module.prepare(np.random.default_rng(secret), private)
    except RunDataError:
        raise
    except Exception as exc:
        raise RunDataError(f"{RUNDATA_FILE}: prepare() raised {type(exc).__name__}: {exc}") from exc
    return RunData(_arrays(data, "data"), _arrays(held, "held"))


def _arrays(values: object, what: str) -> dict[str, np.ndarray]:
    if not isinstance(values, dict):
        raise RunDataError(f"{RUNDATA_FILE}: prepare() must return two dicts of arrays")
    out = {}
    for name, value in values.items():
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise RunDataError(f"{RUNDATA_FILE}: {what} name {name!r} is not a plain file name")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise RunDataError(f"{RUNDATA_FILE}: {what}[{name!r}] is not a numeric array")
        out[name] = array
    return out


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()
