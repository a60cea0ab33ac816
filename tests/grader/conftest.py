"""Fixtures for the grading engine's tests: the toy package, one Docker sandbox and one reference
bank per session, and a helper that grades a set of files.

Docker tests fail (never skip) when the engine or the sandbox image is missing: the sandbox
fixture calls DockerSandbox.check(), whose SandboxError names the fix.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.engine import grade
from grader.job import GradingJob, GradingResult
from grader.package import Package, load_package
from grader.reference import MemoryBank
from grader.sandbox import DockerSandbox

TOY = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
TEST_LABEL = "dlgrader.test-session"


@pytest.fixture(scope="session")
def toy() -> Package:
    return load_package(TOY)


@pytest.fixture(scope="session")
def session_label() -> str:
    """A label value unique to this test session, set on every container it starts."""
    return uuid.uuid4().hex


@pytest.fixture(scope="session")
def sandbox(session_label: str) -> Iterator[DockerSandbox]:
    box = DockerSandbox(labels={TEST_LABEL: session_label})
    box.check()
    yield box
    box.close()
    assert leftover_containers(session_label) == [], "sandbox containers were not removed"


@pytest.fixture(scope="session")
def bank() -> MemoryBank:
    return MemoryBank()


@pytest.fixture
def run_toy(toy: Package, sandbox: DockerSandbox, bank: MemoryBank):
    """grade(files) on the toy package with the session's sandbox and bank (a fresh draw,
    with its reference computed alongside, for every run: the bank stays empty)."""

    def run(files: dict[str, bytes]) -> GradingResult:
        return grade(GradingJob(files=files, package=toy), sandbox, bank)

    return run


@pytest.fixture
def toy_variant(tmp_path: Path) -> Callable[[dict], Package]:
    """A copy of the toy package with (old, new) text replaced in the named files (one pair
    or a list of pairs per file)."""

    def build(edits: dict[str, tuple[str, str] | list[tuple[str, str]]]) -> Package:
        folder = tmp_path / f"toy-{uuid.uuid4().hex[:8]}"
        shutil.copytree(TOY, folder)
        for rel, pairs in edits.items():
            text = (folder / rel).read_text()
            for old, new in [pairs] if isinstance(pairs, tuple) else pairs:
                assert old in text, f"{old!r} not in {rel}"
                text = text.replace(old, new)
            (folder / rel).write_text(text)
        return load_package(folder)

    return build


@pytest.fixture
def run_package(sandbox: DockerSandbox):
    """grade(package, files) with the session's sandbox (a fresh draw)."""

    def run(package: Package, files: dict[str, bytes]) -> GradingResult:
        return grade(GradingJob(files=files, package=package), sandbox)

    return run


@pytest.fixture
def solution_with(toy: Package) -> Callable[[str, str], dict[str, bytes]]:
    """The toy solution's ops.py with one function replaced (its old body renamed away)."""

    def build(function: str, replacement: str) -> dict[str, bytes]:
        source = toy.solution_files()["ops.py"].decode()
        source = source.replace(f"def {function}(", f"def _replaced_{function}(")
        return {"ops.py": (source + "\n\n" + replacement.strip() + "\n").encode()}

    return build


@pytest.fixture(scope="session")
def leftovers(session_label: str) -> Callable[[], list[str]]:
    """Ids of this session's containers still present (running or not)."""
    return lambda: leftover_containers(session_label)


@pytest.fixture(scope="session")
def test_labels(session_label: str) -> dict[str, str]:
    """Labels for containers a test creates itself, so `leftovers` sees them too."""
    return {TEST_LABEL: session_label}


def leftover_containers(label_value: str) -> list[str]:
    """Ids of containers (running or not) that carry this session's label."""
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={TEST_LABEL}={label_value}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.split()
