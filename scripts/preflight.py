"""Check what `make run` needs before it starts anything; say how to fix what is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import urlparse

import docker
import redis
from docker.errors import DockerException


def check_docker() -> None:
    """Exit non-zero with one line naming the fix when the Docker engine does not answer."""
    try:
        docker.from_env(timeout=5).ping()
    except DockerException as exc:
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        sys.exit(
            f"Docker is not reachable at {host} ({type(exc).__name__}): start the engine "
            "(`sudo systemctl start docker`, or `sudo dockerd &`) or set DOCKER_HOST, "
            "then run `make run` again."
        )


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def ensure_redis() -> None:
    """Use REDIS_URL; start a local redis-server when none answers on localhost and one exists."""
    url = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
    if redis_answers(url):
        return
    parsed = urlparse(url)
    server = shutil.which("redis-server")
    if parsed.hostname in ("localhost", "127.0.0.1") and server:
        port = str(parsed.port or 6379)
        args = [server, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", ""]
        subprocess.run(args, check=True)
        for _ in range(50):
            if redis_answers(url):
                print(f"Started a local redis-server on port {port}.")
                return
            time.sleep(0.1)
    sys.exit(f"Redis does not answer at {url}: start redis-server or set REDIS_URL.")


if __name__ == "__main__":
    check_docker()
    ensure_redis()
