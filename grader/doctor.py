"""`python -m grader.doctor [image]`: is this host ready to grade? Prints the fix when not.

Checks that Docker answers, that the sandbox image exists, and runs one empty sandbox (the
bootstrap, an empty harness) to measure the fixed cost of a grading run.
"""

from __future__ import annotations

import io
import sys
import tarfile
import time

from grader.bundle import sandbox_stdin
from grader.job import Limits
from grader.sandbox import DEFAULT_IMAGE, DockerSandbox, SandboxError

EMPTY_HARNESS = b"import numpy\nprint('ready')\n"


def empty_bundle() -> bytes:
    """A bundle whose harness only imports numpy and says so."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("harness.py")
        info.size = len(EMPTY_HARNESS)
        tar.addfile(info, io.BytesIO(EMPTY_HARNESS))
    return buf.getvalue()


def main(argv: list[str]) -> int:
    """Exit status 0 when a sandbox runs; 1 with a one-line fix otherwise."""
    sandbox = DockerSandbox(image=argv[0] if argv else DEFAULT_IMAGE)
    try:
        sandbox.check()
        started = time.monotonic()
        out = sandbox.run(sandbox_stdin(empty_bundle(), bytes(32)), Limits(wall_s=60), None)
        total = time.monotonic() - started
    except SandboxError as exc:
        print(f"not ready: {exc}")
        return 1
    finally:
        sandbox.close()
    if out.stdout != b"ready\n":
        print(f"not ready: the sandbox did not run (exit code {out.exit_code}): {out.log[-500:]!r}")
        return 1
    print(
        f"ready: {sandbox.image} ran an empty sandbox in {total:.2f} s "
        f"({out.seconds:.2f} s from start to exit)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
