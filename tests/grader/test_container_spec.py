"""container_spec is the whole sandbox policy; these tests read it without Docker."""

from __future__ import annotations

from docker.types import DeviceRequest

from grader.job import Limits
from grader.sandbox import SANDBOX_LABEL, FrameReader, container_spec

LIMITS = Limits(wall_s=30, memory_mb=512, cpus=1.5, pids=48, tmpfs_mb=32)


def test_locked_down_container():
    """No network, read-only root, nobody, no capabilities, no new privileges, no logs; no
    --init: the harness is the container's pid 1 (it reaps, and ignores in-container signals)."""
    spec = container_spec(LIMITS, None, "img:tag")
    assert spec["image"] == "img:tag"
    assert spec["network_mode"] == "none"
    assert spec["read_only"] is True
    assert spec["user"] == "65534:65534"
    assert spec["cap_drop"] == ["ALL"]
    assert spec["security_opt"] == ["no-new-privileges"]
    assert spec["init"] is False
    assert spec["log_config"]["Type"] == "none"
    assert spec["labels"][SANDBOX_LABEL] == "1"
    assert not {"volumes", "mounts", "privileged", "devices", "device_requests"} & set(spec)


def test_resource_limits():
    """Memory with equal swap, CPU quota, pids, tmpfs sizes and rlimits follow Limits."""
    spec = container_spec(LIMITS, None)
    assert spec["mem_limit"] == spec["memswap_limit"] == "512m"
    assert spec["nano_cpus"] == 1_500_000_000
    assert spec["pids_limit"] == 48
    assert spec["tmpfs"]["/job"] == "rw,nosuid,nodev,size=32m,mode=1777"
    assert spec["tmpfs"]["/tmp"].startswith("rw,nosuid,nodev,noexec,size=")
    ulimits = {u["Name"]: (u["Soft"], u["Hard"]) for u in spec["ulimits"]}
    assert ulimits["core"] == (0, 0)
    assert ulimits["nofile"][0] <= 4096
    assert ulimits["fsize"] == (32 << 20, 32 << 20)


def test_input_goes_over_stdin_in_isolated_mode():
    """stdin open and attached (StdinOnce comes with detach=False); python -I -S bootstrap."""
    spec = container_spec(LIMITS, None)
    assert (spec["stdin_open"], spec["detach"], spec["tty"]) == (True, False, False)
    assert spec["command"][:4] == ["python3", "-I", "-S", "-c"]
    assert 'extractall("/job", filter="data")' in spec["command"][4]
    assert spec["use_config_proxy"] is False


def test_environment_is_clean(monkeypatch):
    """Nothing from the worker's environment leaks in; thread pools follow the CPU quota."""
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgresql://secret")
    env = container_spec(LIMITS, None)["environment"]
    assert "do-not-leak" not in str(env) and "secret" not in str(env)
    assert set(env) == {
        "PATH",
        "HOME",
        "LANG",
        "MPLCONFIGDIR",
        "MALLOC_MMAP_THRESHOLD_",
        "MALLOC_TRIM_THRESHOLD_",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "PYTORCH_NVML_BASED_CUDA_CHECK",
        "NVIDIA_VISIBLE_DEVICES",
        "CUDA_VISIBLE_DEVICES",
        "DLGRADER_PRELOAD",
    }
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "1"
    assert env["DLGRADER_PRELOAD"] == ""
    malloc = (env["MALLOC_MMAP_THRESHOLD_"], env["MALLOC_TRIM_THRESHOLD_"])
    assert malloc == ("16777216", "67108864")
    assert (env["NVIDIA_VISIBLE_DEVICES"], env["CUDA_VISIBLE_DEVICES"]) == ("void", "")


def test_gpu_device_request():
    """A leased GPU becomes one device request for that id; inside, it is CUDA device 0."""
    spec = container_spec(LIMITS, "GPU-4a1c2f", runtime="nvidia")
    assert spec["device_requests"] == [
        DeviceRequest(device_ids=["GPU-4a1c2f"], capabilities=[["gpu"]])
    ]
    assert spec["device_requests"][0]["Count"] == 0  # exactly the listed ids, never "all"
    assert spec["environment"]["NVIDIA_VISIBLE_DEVICES"] == "GPU-4a1c2f"
    assert spec["environment"]["CUDA_VISIBLE_DEVICES"] == "0"
    assert spec["runtime"] == "nvidia"


def test_extra_labels_keep_the_sandbox_label():
    spec = container_spec(LIMITS, None, labels={"run": "42"})
    assert spec["labels"] == {SANDBOX_LABEL: "1", "run": "42"}


def frame(stream: int, payload: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(payload).to_bytes(4, "big") + payload


def test_frame_reader_demultiplexes_split_frames():
    """Frames split anywhere are reassembled; stdout and the log go their own ways."""
    data = frame(1, b'{"a": 1}\n') + frame(2, b"print") + frame(1, b"tail\n")
    reader = FrameReader(stdout_cap=1024, log_tail=1024)
    for i in range(0, len(data), 3):
        reader.feed(data[i : i + 3])
    assert (bytes(reader.stdout), bytes(reader.log)) == (b'{"a": 1}\ntail\n', b"print")


def test_frame_reader_caps_stdout_and_keeps_the_log_tail():
    reader = FrameReader(stdout_cap=10, log_tail=4)
    reader.feed(frame(2, b"0123456789") + frame(2, b"abcdef"))
    reader.finish()
    assert bytes(reader.log) == b"cdef" and not reader.capped
    reader.feed(frame(1, b"x" * 11))
    assert reader.capped and len(reader.stdout) == 10


def test_only_dotted_module_names_reach_the_bootstraps_preload():
    spec = container_spec(LIMITS, None, preload=("numpy", "torch.nn", "os; rm -rf /", "", "a b"))
    assert spec["environment"]["DLGRADER_PRELOAD"] == "numpy,torch.nn"
