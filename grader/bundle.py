"""What enters a sandbox: a tar of the harness, the task, the submitted files and the probes.

The tar holds ONLY harness.py, task.json, submission/<files>, hidden/cases.py and
hidden/data/. Never the reference solution, reference outputs, hidden/labels/ or
hidden/checks.py: those stay on the worker, where scoring happens.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

from grader.package import Package

HARNESS_PATH = Path(__file__).with_name("harness.py")
MAX_CASE_BYTES_FLOOR = 64 * 1024


def task_for(package: Package, seed: int, nonce: str, device: str) -> dict:
    """The harness's instructions: cases in order with their time limits, seed, nonce, device."""
    config = package.config
    limits = config.limits
    return {
        "nonce": nonce,
        "seed": int(seed),
        "device": device,
        "preload": list(config.preload),
        "modules": [name.removesuffix(".py") for name in config.files],
        "cases": [
            {"name": c.name, "timeout_s": float(c.timeout_s or limits.case_s)} for c in config.cases
        ],
        "max_case_bytes": max_case_bytes(package),
        "print_cap": limits.log_kb * 1024,  # per case; the worker keeps the run's last log_kb
        "gpu_memory_mb": limits.gpu_memory_mb,  # used when device is "cuda"
        "sweep": True,
    }


def max_case_bytes(package: Package) -> int:
    """Cap on one case's encoded outputs: the run's whole output budget, at least 64 KB."""
    return max(package.config.limits.output_kb * 1024, MAX_CASE_BYTES_FLOOR)


def make_bundle(package: Package, files: dict[str, bytes], task: dict) -> bytes:
    """Tar for the sandbox's stdin; only the declared submitted files are shipped."""
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
