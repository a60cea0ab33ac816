"""GPU check without Docker: the cnn and rnn suites through the real harness on CUDA.

For a machine with a GPU and PyTorch but no Docker engine (a lent device session). Each
"sandbox" here is a plain child process running the same harness on the same bundle as the
container would (no isolation at all: run only trusted code here, the reference solutions and
the probes below). It checks, per assignment:
1. the reference solution scores full marks on CUDA against a reference also computed on
   CUDA (what a GPU worker does), on --seeds draws;
2. the reference computed on CPU and on CUDA for the same draw: the largest difference per
   case, and whether the CUDA solution's outputs pass the suite's checks against the CPU
   reference (the tolerances must absorb the device);
3. the GPU memory cap: a submission that allocates past `gpu_memory_mb` scores MEMORY with
   "GPU out of memory (limit N MiB)", and one within it runs.

    python scripts/gpu_check.py [--device 0] [--seeds 2] [--slugs cnn,rnn] [--out DIR]

Without a GPU (`--device none`) it runs the same on the CPU, which checks the script itself.
Exit status 0 when every check holds. Needs only numpy and torch (and this repository).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.engine import Judge, compute_reference, grade, run_data_for  # noqa: E402
from grader.job import CaseStatus, GradingJob, Limits  # noqa: E402
from grader.package import load_package  # noqa: E402
from grader.reference import Draw, Reference  # noqa: E402
from grader.sandbox import SandboxOutput  # noqa: E402

# Appended to the solution's model file: its first CUDA allocation asks for twice the cap.
GREEDY = """

def _grab_past_the_cap():
    import torch
    if torch.cuda.is_available():
        cap = torch.cuda.get_device_properties(0).total_memory
        torch.empty(int(cap), dtype=torch.uint8, device="cuda")

_grab_past_the_cap()
"""


class ProcessSandbox:
    """The Sandbox protocol as a child process: the bundle is unpacked into a temporary folder
    and its harness run there with the record key on stdin. For trusted code only."""

    def __init__(self, gpu_index: str | None) -> None:
        self.gpu_index = gpu_index

    def run(self, bundle, limits: Limits, gpu_device, environment="torch", progress=None):
        size = int.from_bytes(bundle[:8], "big")
        tar, key = bundle[8 : 8 + size], bundle[8 + size :]
        with tempfile.TemporaryDirectory(prefix="dlgrader-gpu-") as job:
            with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as archive:
                archive.extractall(job, filter="data")
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": job,
                "OMP_NUM_THREADS": str(max(1, int(limits.cpus))),
                "CUDA_VISIBLE_DEVICES": self.gpu_index if gpu_device is not None else "",
                "PYTORCH_NVML_BASED_CUDA_CHECK": "1",
            }
            started = time.monotonic()
            try:
                done = subprocess.run(
                    [sys.executable, "-I", f"{job}/harness.py"],
                    input=key,
                    capture_output=True,
                    cwd=job,
                    env=env,
                    timeout=limits.wall_s,
                )
                stdout, log, code, timed_out = done.stdout, done.stderr, done.returncode, False
            except subprocess.TimeoutExpired as exc:
                stdout, log, code, timed_out = exc.stdout or b"", exc.stderr or b"", None, True
        return SandboxOutput(
            stdout=stdout,
            log=log[-limits.log_kb * 1024 :],
            exit_code=code,
            oom_killed=False,
            timed_out=timed_out,
            output_capped=False,
            seconds=time.monotonic() - started,
        )


def full_marks_on_cuda(package, sandbox, device, seeds) -> list[str]:
    problems = []
    for seed in seeds:
        job = GradingJob(package.solution_files(), package, device, draw=Draw.of_seed(seed))
        result = grade(job, sandbox)
        lost = [
            f"{c.name} ({c.status}: {c.feedback})" for c in result.cases if c.points < c.max_points
        ]
        took = result.timings.get("total", 0.0)
        print(f"  seed {seed}: {result.score:g}/{result.max_score:g} in {took:.1f} s")
        problems += [f"seed {seed}: reference lost {case}" for case in lost]
    return problems


def cpu_versus_cuda(package, sandbox, device, seed) -> tuple[list[str], dict]:
    """The reference on both devices for one draw; CUDA's outputs judged against CPU's."""
    draw = Draw.of_seed(seed)
    run_data = run_data_for(package, draw)
    on_cpu = compute_reference(package, draw, run_data, None, sandbox)
    on_cuda = compute_reference(package, draw, run_data, device, sandbox)
    judge = Judge(package, Reference(draw, on_cpu).outputs, run_data.held)
    problems, diffs = [], {}
    for spec in package.config.cases:
        if spec.name not in on_cpu:
            continue
        worst = max(
            (float(np.max(np.abs(on_cpu[spec.name][k].astype(float) - v.astype(float))))
             for k, v in on_cuda[spec.name].items() if on_cpu[spec.name][k].size),
            default=0.0,
        )  # fmt: skip
        ok, why = judge.check(spec, on_cuda[spec.name])
        diffs[spec.name] = {"max_abs_diff": worst, "passes_against_cpu": ok}
        print(f"  {spec.name:32s} max |cpu-cuda| {worst:.3g}  {'ok' if ok else 'FAILS: ' + why}")
        if not ok:
            problems.append(f"{spec.name}: CUDA output fails against the CPU reference: {why}")
    return problems, diffs


def memory_cap(package, sandbox, device) -> list[str]:
    """A submission that allocates the whole GPU scores MEMORY on the torch cases."""
    if device is None:
        print("  (no GPU: skipped)")
        return []
    files = dict(package.solution_files())
    target = next((name for name in sorted(files) if "model" in name or "lenet" in name), None)
    target = target or sorted(files)[-1]
    files[target] += GREEDY.encode()
    result = grade(GradingJob(files, package, device, draw=Draw.of_seed(1)), sandbox)
    torch_cases = {c.name for c in package.config.cases if c.environment == "torch"}
    statuses = {c.name: (c.status, c.feedback) for c in result.cases if c.name in torch_cases}
    for name, (status, feedback) in statuses.items():
        print(f"  {name:32s} {status}: {feedback}")
    memory = [n for n, (status, _) in statuses.items() if status == CaseStatus.MEMORY]
    if not memory:
        return [f"no torch case scored MEMORY past the cap: {statuses}"]
    wording = all("GPU out of memory (limit" in statuses[n][1] for n in memory)
    return [] if wording else [f"MEMORY feedback not in the grader's words: {statuses}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="0", help="CUDA device index, or 'none'")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--slugs", default="cnn,rnn")
    parser.add_argument("--out", type=Path, help="write a JSON summary here")
    args = parser.parse_args()

    device = None if args.device == "none" else args.device
    sandbox = ProcessSandbox(device)
    summary, problems = {}, []
    for slug in args.slugs.split(","):
        package = load_package(REPO / "assignments" / slug)
        seeds = list(range(1, args.seeds + 1))
        print(f"{slug}: reference on {'cuda:' + device if device else 'cpu'}")
        found = full_marks_on_cuda(package, sandbox, device, seeds)
        print(f"{slug}: reference on cpu vs cuda (seed {seeds[0]})")
        compared, diffs = cpu_versus_cuda(package, sandbox, device, seeds[0])
        print(f"{slug}: GPU memory cap ({package.config.limits.gpu_memory_mb} MiB)")
        capped = memory_cap(package, sandbox, device)
        summary[slug] = {"diffs": diffs, "problems": found + compared + capped}
        problems += [f"{slug}: {p}" for p in found + compared + capped]
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "gpu_check.json").write_text(json.dumps(summary, indent=2))
    print("\n".join(["", "PROBLEMS:", *problems]) if problems else "\nall GPU checks hold")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
