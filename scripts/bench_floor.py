"""Benchmark: the CPU a sandbox container costs before any grading happens in it: the floor
under issue 12's burst efficiency, given one fresh container per run.

Each of --containers containers is made from the sandbox's own spec (grader.sandbox:
limits, lockdown, image), attached, started, runs `python3 -I -S` (with its site-packages)
doing only `pass`, then only `import numpy, numpy.random`, exits, and is waited for,
inspected and removed, one after another, as a run's container is. Beside each, the same
interpreter doing the same in a plain process on the host. benchkit.CpuLedger says where the
CPU went ("worker" is this script: its Docker API calls). The ceiling printed for a burst is
what efficiency would be if the containers cost only this floor and the worker, web app,
database and harness cost nothing:

    compute per run / (compute per run + container floor - plain process)

with the compute per run given by --compute (seconds: the mixed burst's mean compute limit
per submission, from scripts/bench_burst.py).

    .venv/bin/python scripts/bench_floor.py [--containers 40] [--compute 0.42]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import docker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchkit import CpuLedger  # noqa: E402

from grader.job import Limits  # noqa: E402
from grader.sandbox import NUMPY_IMAGE, container_spec, start_attached  # noqa: E402

PROGRAMS = {"interpreter": "pass", "interpreter + numpy": "import numpy, numpy.random"}
SITE = "import site, sys; sys.path += site.getsitepackages(); "


def container_life(client: docker.DockerClient, spec: dict) -> None:
    container = client.containers.create(**spec)
    started = start_attached(client, container)
    while started.sock.recv(1 << 16):
        pass
    started.close()
    container.wait(timeout=30)
    client.api.inspect_container(container.id)
    container.remove(force=True)


def plain_cpu(code: str, times: int) -> float:
    """CPU seconds of one plain `python3 -I -S -c code` on the host (mean of `times`)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(times):
        command = [sys.executable, "-I", "-S", "-c", SITE + code]
        subprocess.run(command, check=True, env={"OMP_NUM_THREADS": "1"})  # as in the sandbox
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return spent / times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=40)
    parser.add_argument("--compute", type=float, default=0.42)
    args = parser.parse_args()
    client = docker.from_env()
    for label, code in PROGRAMS.items():
        spec = container_spec(Limits(), None, NUMPY_IMAGE)
        spec.update(command=["python3", "-I", "-S", "-c", SITE + code], stdin_open=False)
        ledger = CpuLedger(os.getpid())
        ledger.start()
        began = time.monotonic()
        for _ in range(args.containers):
            container_life(client, spec)
        spent = ledger.stop()
        wall = (time.monotonic() - began) / args.containers
        per = {k: v / args.containers for k, v in spent.items()}
        plain = plain_cpu(code, args.containers)
        parts = ", ".join(
            f"{k} {v:.3f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if k != "total"
        )
        print(f"{label}: {wall:.3f} s wall, {per['total']:.3f} s CPU a container ({parts});")
        print(f"  the same in a plain process: {plain:.3f} s CPU")
        extra = per["total"] - plain
        ceiling = args.compute / (args.compute + extra)
        print(f"  a burst of {args.compute:g} s runs could reach at most {ceiling:.0%}")
    client.close()


if __name__ == "__main__":
    main()
