"""The grading engine: run a suite's cases on a submission in a sandbox, score them outside it.

Public API (the web side and the Celery task use only these names):

    grade(job, sandbox, bank=None) -> GradingResult         grader.engine
    fill_bank(package, sandbox, bank) (idle-time work)      grader.engine
    SuiteError (the suite's own solution fails)             grader.engine
    DockerSandbox(image=..., numpy_image=..., labels=...)   grader.sandbox
    SandboxError (infrastructure: retry, never score 0)     grader.sandbox
    Draw, ReferenceBank protocol, MemoryBank                grader.reference
    check_forbidden(files, config) -> list[str]             grader.forbidden
    load_package(path_or_zip_bytes) -> Package              grader.package

`grader.grade` and the other names are importable from the package itself; they load lazily,
so `import grader.job` stays cheap.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "grade": "grader.engine",
    "fill_bank": "grader.engine",
    "SuiteError": "grader.engine",
    "DockerSandbox": "grader.sandbox",
    "SandboxError": "grader.sandbox",
    "Draw": "grader.reference",
    "MemoryBank": "grader.reference",
    "check_forbidden": "grader.forbidden",
    "load_package": "grader.package",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
