"""The grading engine: run a suite's cases on a submission in a sandbox, score them outside it.

Public API: the web side and the worker (webapp/) import the engine through these names only,
`from grader import grade, GradingJob, ...`; they load lazily, so `import grader` stays cheap.

    grade(job, sandbox, bank=None) -> GradingResult          grader.engine
    fill_bank(package, sandbox, bank) (idle-time work)       grader.engine
    SuiteError (the suite's own solution fails)              grader.engine
    GradingJob, GradingResult, CaseOutcome, CaseStatus,      grader.job
      RunStatus (what a run asks and what it gives back)
    DockerSandbox(image=..., numpy_image=..., labels=...)    grader.sandbox
    WarmDockerSandbox (containers started ahead of a run)    grader.warm
    SandboxError (infrastructure: retry, never score 0),     grader.sandbox
      DOCKER_ERRORS, GPU_LEASE_LABEL
    Draw, MemoryBank, bank_key                               grader.reference
    check_forbidden(files, config) -> list[str]              grader.forbidden
    load_package(path_or_zip_bytes) -> Package, PackageError, grader.package
      AssignmentConfig, parse_config, VISIBILITIES,
      config_to_dict / config_from_dict (the stored, versioned form)
    run_selfcheck, SelfCheckReport, fresh_seeds, format_table grader.selfcheck
    GpuPool, pool_from_env, check_sharing_allowed,           grader.gpus
      UnsafeGpuSharing, SHARING_UNSAFE
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "grade": "grader.engine",
    "fill_bank": "grader.engine",
    "SuiteError": "grader.engine",
    "GradingJob": "grader.job",
    "GradingResult": "grader.job",
    "CaseOutcome": "grader.job",
    "CaseStatus": "grader.job",
    "RunStatus": "grader.job",
    "DockerSandbox": "grader.sandbox",
    "SandboxError": "grader.sandbox",
    "DOCKER_ERRORS": "grader.sandbox",
    "GPU_LEASE_LABEL": "grader.sandbox",
    "WarmDockerSandbox": "grader.warm",
    "Draw": "grader.reference",
    "MemoryBank": "grader.reference",
    "bank_key": "grader.reference",
    "check_forbidden": "grader.forbidden",
    "load_package": "grader.package",
    "Package": "grader.package",
    "PackageError": "grader.package",
    "AssignmentConfig": "grader.package",
    "parse_config": "grader.package",
    "config_to_dict": "grader.package",
    "config_from_dict": "grader.package",
    "VISIBILITIES": "grader.package",
    "run_selfcheck": "grader.selfcheck",
    "SelfCheckReport": "grader.selfcheck",
    "fresh_seeds": "grader.selfcheck",
    "format_table": "grader.selfcheck",
    "GpuPool": "grader.gpus",
    "pool_from_env": "grader.gpus",
    "check_sharing_allowed": "grader.gpus",
    "UnsafeGpuSharing": "grader.gpus",
    "SHARING_UNSAFE": "grader.gpus",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
