"""What enters the sandbox: harness, task, declared student files, cases and data. Nothing else."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np

from grader.bundle import make_bundle, sandbox_stdin, task_for
from grader.package import Package


def members(bundle: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_bundle_holds_only_what_the_sandbox_may_see(toy: Package):
    """No solution, labels, checks or undeclared student files (sitecustomize.py, *.pth)."""
    files = {
        "ops.py": b"def add(a, b):\n    return a + b\n",
        "sitecustomize.py": b"import os\n",
        "numpy.py": b"",
        "evil.pth": b"import os\n",
    }
    task = task_for(toy, seed=5, device="cpu")
    content = members(make_bundle(toy, files, task, {"train_x": np.zeros((2, 3))}))
    assert set(content) == {
        "harness.py",
        "task.json",
        "submission/ops.py",
        "hidden/cases.py",
        "hidden/data/points.npy",
        "hidden/data/run/train_x.npy",
    }
    assert content["submission/ops.py"] == files["ops.py"]
    assert toy.solution_files()["ops.py"] not in content.values()


def test_task_lists_cases_in_order_with_their_limits(toy: Package):
    task = json.loads(members(make_bundle(toy, {}, task_for(toy, 5, "cuda")))["task.json"])
    assert [c["name"] for c in task["cases"]] == ["add", "matmul", "relu", "classify", "ranking"]
    assert {c["timeout_s"] for c in task["cases"]} == {3.0}
    assert (task["seed"], task["device"]) == (5, "cuda")
    assert not {"nonce", "key", "secret"} & set(task), "nothing secret is written to a file"
    assert (task["preload"], task["modules"]) == (["numpy"], ["ops"])
    assert task["print_cap"] == 16 * 1024 and task["max_case_bytes"] == 1024 * 1024


def test_stdin_frames_the_bundle_and_puts_the_key_last():
    """The bootstrap reads exactly the bundle; the key follows it and is never in the tar."""
    key = bytes(range(32))
    data = sandbox_stdin(b"TAR", key)
    assert data == (3).to_bytes(8, "big") + b"TAR" + key.hex().encode() + b"\n"
