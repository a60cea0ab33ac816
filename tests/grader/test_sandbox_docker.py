"""DockerSandbox on a real engine with hand-made bundles: the container, its limits, removal."""

from __future__ import annotations

import gc
import io
import json
import tarfile
import warnings
from dataclasses import replace

import docker
import pytest

from grader import doctor
from grader.bundle import sandbox_stdin
from grader.job import Limits
from grader.sandbox import DockerSandbox, SandboxError, container_spec

pytestmark = pytest.mark.docker

LIMITS = Limits(wall_s=15, memory_mb=256, cpus=1.0, pids=32, tmpfs_mb=16, output_kb=64, log_kb=4)

PROBE = r"""
import json, os, sys
def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return line.split()[1]
def writable(path):
    try:
        with open(path, "w") as fh:
            fh.write("x")
        return True
    except OSError:
        return False
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "isolated": sys.flags.isolated,
    "no_site": sys.flags.no_site, "path": sys.path, "cwd": os.getcwd(),
    "cap_eff": status("CapEff"), "no_new_privs": status("NoNewPrivs"),
    "seccomp": status("Seccomp"), "root_writable": writable("/usr/x"),
    "job_writable": writable("/job/x"), "tmp_writable": writable("/tmp/x"),
    "interfaces": __import__("socket").if_nameindex(), "pid1": open("/proc/1/cmdline").read(),
    "env": sorted(os.environ),
}))
print("to the log", file=sys.stderr)
"""


def bundle(harness: str) -> bytes:
    """The bootstrap's stdin for a bundle holding only `harness` as harness.py."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = harness.encode()
        info = tarfile.TarInfo("harness.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return sandbox_stdin(buf.getvalue(), bytes(32))


def test_container_is_locked_down(sandbox: DockerSandbox):
    """Inside: nobody, no capabilities, no_new_privs, seccomp, read-only root, only loopback."""
    out = sandbox.run(bundle(PROBE), LIMITS, None)
    assert out.exit_code == 0 and not (out.timed_out or out.oom_killed or out.output_capped)
    facts = json.loads(out.stdout)
    assert (facts["uid"], facts["gid"]) == (65534, 65534)
    assert (facts["isolated"], facts["no_site"]) == (1, 1)
    assert not any(p.startswith("/job") for p in facts["path"])
    assert facts["cap_eff"] == "0000000000000000"
    assert (facts["no_new_privs"], facts["seccomp"]) == ("1", "2")
    assert facts["root_writable"] is False
    assert facts["job_writable"] is True and facts["tmp_writable"] is True
    assert facts["interfaces"] == [[1, "lo"]]
    assert facts["pid1"].startswith("python3\0-I\0-S\0-c")  # the bootstrap is the init
    assert "SECRET_KEY" not in facts["env"] and "DATABASE_URL" not in facts["env"]
    assert out.log == b"to the log\n"


def test_docker_applies_the_spec(sandbox: DockerSandbox, test_labels: dict[str, str]):
    """The engine records the limits container_spec asks for (and stdin is StdinOnce)."""
    client = sandbox.client()
    spec = container_spec(LIMITS, None, sandbox.image, labels=test_labels)
    container = client.containers.create(**spec)
    try:
        attrs = client.api.inspect_container(container.id)
    finally:
        container.remove(force=True)
    host, config = attrs["HostConfig"], attrs["Config"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["Memory"] == host["MemorySwap"] == 256 * 1024 * 1024
    assert (host["PidsLimit"], host["NanoCpus"], host["Init"]) == (32, 10**9, False)
    assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"]
    assert host["LogConfig"]["Type"] == "none"
    assert set(host["Tmpfs"]) == {"/job", "/tmp"} and not host.get("Binds")
    assert (config["User"], config["OpenStdin"], config["StdinOnce"]) == ("65534:65534", True, True)


def test_wall_clock_kills_the_container(sandbox: DockerSandbox, leftovers):
    """A run past wall_s is killed from outside, keeps what it wrote, and is removed."""
    harness = "import time\nprint('early', flush=True)\ntime.sleep(600)\n"
    out = sandbox.run(bundle(harness), replace(LIMITS, wall_s=2), None)
    assert out.timed_out and out.exit_code == 137
    assert out.stdout == b"early\n"
    assert 2 <= out.seconds < 6
    assert leftovers() == []


def test_output_caps(sandbox: DockerSandbox):
    """stdout past output_kb stops the run; the log keeps only its last log_kb."""
    # Docker copies stdout and stderr independently: give the stderr frames a moment to
    # arrive before the stdout flood, or the cap may stop reading before 'END' is in.
    harness = (
        "import sys, time\nsys.stderr.write('x' * 100000 + 'END')\nsys.stderr.flush()\n"
        "time.sleep(1)\nwhile True:\n    print('y' * 1000)\n"
    )
    out = sandbox.run(bundle(harness), LIMITS, None)
    assert out.output_capped and len(out.stdout) == 64 * 1024
    assert len(out.log) == 4 * 1024 and out.log.endswith(b"END")


def test_missing_image_is_a_sandbox_error(test_labels: dict[str, str]):
    box = DockerSandbox(image="dlgrader-sandbox:no-such-tag", labels=test_labels)
    with pytest.raises(SandboxError, match="dlgrader-sandbox:no-such-tag is missing: build it"):
        box.run(bundle("pass"), LIMITS, None)
    box.close()


def test_unreachable_docker_is_a_sandbox_error():
    client = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    with pytest.raises(SandboxError, match="check that the Docker engine runs") as raised:
        DockerSandbox(client=client).run(bundle("pass"), LIMITS, None)
    del raised
    client.close()
    with warnings.catch_warnings():  # docker-py does not close the socket of a failed connect
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_doctor_runs_an_empty_sandbox(sandbox: DockerSandbox, capsys):
    """grader.doctor reports a ready host (and, for a missing image, the fix)."""
    assert doctor.main([sandbox.image]) == 0
    assert capsys.readouterr().out.startswith(f"ready: {sandbox.image} ran an empty sandbox in ")
    assert doctor.main(["dlgrader-sandbox:no-such-tag"]) == 1
    assert "build it with grader/images/build_local.sh" in capsys.readouterr().out


def test_the_numpy_environment_has_nothing_but_numpy(sandbox: DockerSandbox):
    """Enforcement by absence: in the numpy image no route reaches torch, scipy or sklearn,
    and no libtorch is on the filesystem to load with ctypes."""
    probe = r"""
import glob, importlib, pydoc, json
found = {}
for name in ("torch", "scipy", "sklearn", "jax", "tensorflow", "sympy", "autograd"):
    try:
        importlib.import_module(name)
        found[name] = "imported"
    except ImportError:
        pass
    if pydoc.locate(name) is not None:
        found[name] = "located"
libs = glob.glob("/usr/**/libtorch*.so*", recursive=True)
import numpy
print(json.dumps({"found": found, "libs": libs, "numpy": numpy.__version__}))
"""
    out = sandbox.run(bundle(probe), LIMITS, None, environment="numpy")
    facts = json.loads(out.stdout)
    assert facts["found"] == {} and facts["libs"] == [] and facts["numpy"]
    out = sandbox.run(bundle(probe), LIMITS, None, environment="torch")
    assert json.loads(out.stdout)["found"]["torch"] == "located"
