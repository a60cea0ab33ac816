"""docker-compose.yml is valid for the default and the gpu profile, and the gpu profile adds a
GPU worker with an NVIDIA device reservation, its GPUs and a shared GPU lock directory.

Uses the docker-compose 1.x CLI (Debian's package; CI installs it). `config` prints YAML; it
is read with the PyYAML that docker-compose itself runs on (this project does not depend on
PyYAML), or as JSON where the CLI is Compose v2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
COMPOSE = shutil.which("docker-compose") or "docker-compose"
YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"
SETTINGS = (  # the variables docker-compose.yml reads from the environment or .env
    "SECRET_KEY",
    "POSTGRES_PASSWORD",
    "DATABASE_HOST",
    "REDIS_URL",
    "REDIS_PASSWORD",
    "PRIVATE_BIND",
    "DOCKER_SOCKET",
    "DOCKER_GID",
    "GRADER_GPUS",
    "GRADER_GPU_SHARING",
    "GRADER_GPU_SHARING_UNSAFE",
    "TRUSTED_PROXIES",
    "CPU_WORKER_CONCURRENCY",
    "GPU_WORKER_CONCURRENCY",
)
CORE = {"postgres", "redis", "migrate", "web", "worker-cpu", "beat"}


def compose(*args: str, **settings: str) -> subprocess.CompletedProcess:
    """Run docker-compose on the repo's file with only `settings` from the .env variables."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update({"SECRET_KEY": "compose-test", **settings})
    return subprocess.run(
        [COMPOSE, "-f", str(REPO / "docker-compose.yml"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolved_config(**settings: str) -> dict:
    """`docker-compose config` as a dict."""
    out = compose("config", **settings)
    assert out.returncode == 0, out.stderr
    first_line = Path(COMPOSE).read_bytes()[:200].split(b"\n")[0].decode(errors="replace")
    if first_line.startswith("#!") and "python" in first_line:
        interpreter = first_line[2:].strip().split()
        parsed = subprocess.run(
            [*interpreter, "-c", YAML_TO_JSON], input=out.stdout, capture_output=True, text=True
        )
        assert parsed.returncode == 0, parsed.stderr
        return json.loads(parsed.stdout)
    out = compose("config", "--format", "json", **settings)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def active(services: dict, profiles: set[str]) -> set[str]:
    """Services `up` starts with these profiles: those without profiles, or in one of them."""
    return {
        name
        for name, service in services.items()
        if not service.get("profiles") or set(service["profiles"]) & profiles
    }


@pytest.fixture(scope="module")
def services() -> dict:
    return resolved_config()["services"]


@pytest.mark.parametrize("profile", [None, "gpu"])
def test_config_is_valid(profile):
    args = ["--profile", profile] if profile else []
    result = compose(*args, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_default_profile_runs_the_cpu_stack(services):
    assert active(services, set()) == CORE
    assert active(services, {"gpu"}) == CORE | {"worker-gpu"}
    assert active(services, {"images"}) == CORE | {"sandbox-cpu", "sandbox-numpy", "sandbox-cuda"}
    assert services["web"]["command"][0] == "gunicorn"
    assert "pgdata:/var/lib/postgresql/data" in " ".join(services["postgres"]["volumes"])
    for name in ("postgres", "redis", "web", "worker-cpu"):
        assert services[name]["healthcheck"]["test"], name
    migrate = services["web"]["depends_on"]["migrate"]["condition"]
    assert migrate == "service_completed_successfully"


def test_gpu_worker_reserves_nvidia_gpus_and_consumes_only_the_gpu_queue(services):
    gpu = services["worker-gpu"]
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    command = gpu["command"]
    assert command[command.index("-Q") + 1] == "gpu"
    env = gpu["environment"]
    assert env["SANDBOX_IMAGE"] == "dlgrader-sandbox:cuda" and env["GRADER_GPUS"]
    assert any(v.startswith("gpu-locks:" + env["GRADER_GPU_LOCK_DIR"]) for v in gpu["volumes"])


def test_cpu_worker_never_takes_gpu_work(services):
    cpu = services["worker-cpu"]
    command = cpu["command"]
    assert command[command.index("-Q") + 1] == "cpu"
    assert cpu["environment"]["GRADER_GPUS"] == "none"
    assert "deploy" not in cpu


def test_workers_reach_docker_through_the_socket_only_they_mount(services):
    socket = "/var/run/docker.sock:/var/run/docker.sock"
    for name, service in services.items():
        mounts = " ".join(service.get("volumes", []))
        assert (socket in mounts) == name.startswith("worker-"), name


def test_a_rootless_engine_socket_is_one_setting():
    """DOCKER_SOCKET points the workers at a rootless engine's socket instead of root's."""
    services = resolved_config(DOCKER_SOCKET="/run/user/1000/docker.sock")["services"]
    for name in ("worker-cpu", "worker-gpu"):
        assert "/run/user/1000/docker.sock:/var/run/docker.sock" in " ".join(
            services[name]["volumes"]
        )


def test_gpu_settings_reach_the_gpu_worker():
    env = resolved_config(GRADER_GPUS="GPU-aa,GPU-bb", GRADER_GPU_SHARING="2")["services"][
        "worker-gpu"
    ]["environment"]
    assert (env["GRADER_GPUS"], env["GRADER_GPU_SHARING"]) == ("GPU-aa,GPU-bb", "2")


def test_database_and_broker_listen_on_loopback_unless_a_private_address_is_given():
    """One host: nothing outside reaches PostgreSQL or Redis. Several hosts: the control host
    publishes them on its private address, and worker hosts point their URLs at it."""
    for settings, address in (({}, "127.0.0.1"), ({"PRIVATE_BIND": "10.0.0.5"}, "10.0.0.5")):
        services = resolved_config(**settings)["services"]
        for name, port in (("postgres", 5432), ("redis", 6379)):
            assert services[name]["ports"] == [f"{address}:{port}:{port}/tcp"], name
    worker = resolved_config(DATABASE_HOST="10.0.0.5", REDIS_URL="redis://:pw@10.0.0.5:6379/0")
    env = worker["services"]["worker-cpu"]["environment"]
    assert env["DATABASE_URL"] == "postgresql+psycopg://dlgrader:dlgrader@10.0.0.5:5432/dlgrader"
    assert env["REDIS_URL"] == "redis://:pw@10.0.0.5:6379/0"


def test_sandbox_images_are_built_from_grader_images(services):
    for kind in ("cpu", "cuda"):
        build = services[f"sandbox-{kind}"]["build"]
        assert Path(build["context"]) == REPO / "grader" / "images"
        assert build["dockerfile"] == f"Dockerfile.{kind}"
