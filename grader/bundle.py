"""What enters a sandbox: a tar of the harness, the task, the submitted files and the probes.

The tar holds ONLY harness.py, task.json, submission/<files>, hidden/cases.py, hidden/data/
and the run's own data (hidden/data/run/). Never the reference solution, reference outputs,
hidden/labels/, hidden/private/, hidden/checks.py, hidden/rundata.py, the run's secret or its
held-out data: those stay on the worker, where scoring happens. The record key follows the
tar on stdin (sandbox_stdin) and is never written to a file.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from grader.package import CaseSpec, Package
from grader.rundata import npy_bytes

HARNESS_PATH = Path(__file__).with_name("harness.py")
MAX_CASE_BYTES_FLOOR = 64 * 1024
PRINT_CAP_BYTES = 16 * 1024  # what one case may print that is kept (the rest is counted)


def task_for(
    package: Package,
    seed: int,
    device: str,
    environment: str = "torch",
    cases: Sequence[CaseSpec] | None = None,
) -> dict:
    """The harness's instructions: cases in order with their time limits, seed, device, and
    the preload modules of `environment`. Nothing in it is secret."""
    config = package.config
    limits = config.limits
    return {
        "seed": int(seed),
        "device": device,
        "preload": list(config.preload_for(environment)),
        "modules": [name.removesuffix(".py") for name in config.files],
        "cases": [
            {"name": c.name, "timeout_s": float(c.timeout_s or limits.case_s)}
            for c in (config.cases if cases is None else cases)
        ],
        "max_case_bytes": max_case_bytes(package),
        "print_cap": PRINT_CAP_BYTES,
        "gpu_memory_mb": limits.gpu_memory_mb,  # used when device is "cuda"
    }


def sandbox_stdin(bundle: bytes, key: bytes) -> bytes:
    """What the sandbox's bootstrap reads: the bundle's length, the bundle, the record key."""
    return len(bundle).to_bytes(8, "big") + bundle + key.hex().encode("ascii") + b"\n"


def max_case_bytes(package: Package) -> int:
    """Cap on one case's encoded outputs: the run's whole output budget, at least 64 KB."""
    return max(package.config.limits.output_kb * 1024, MAX_CASE_BYTES_FLOOR)


def make_bundle(
    package: Package,
    files: dict[str, bytes],
    task: dict,
    run_data: dict[str, np.ndarray] | None = None,
) -> bytes:
    """Tar for the sandbox's stdin; only the declared submitted files are shipped, plus the
    run's data (hidden/rundata.py's `data`) under hidden/data/run/."""
    members: dict[str, bytes] = {
        "harness.py": HARNESS_PATH.read_bytes(),
        "task.json": json.dumps(task).encode(),
        "hidden/cases.py": package.read("hidden/cases.py"),
    }
    for name in package.config.files:
        if name in files:
            members[f"submission/{name}"] = files[name]
    for rel, data in package.folder("hidden/data").items():
        members[f"hidden/data/{rel}"] = data
    for name, array in (run_data or {}).items():
        members[f"hidden/data/run/{name}.npy"] = npy_bytes(array)
    return _tar(members)


def _tar(members: dict[str, bytes]) -> bytes:
    """Deterministic tar of regular files (extraction creates the folders)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(members.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
