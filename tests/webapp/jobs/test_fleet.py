"""Worker heartbeats in Redis: written, read back with their age, expired, withdrawn; and the
rule that a worker without a GPU may not consume the gpu queue."""

from __future__ import annotations

import time

import pytest

from tests.webapp.jobs.fleet_support import FLEET_REDIS_URL, Heartbeats, heartbeats
from webapp import create_app
from webapp.jobs.fleet import (
    KEY_PREFIX,
    Heartbeat,
    WorkerConfigError,
    WorkerInfo,
    alive_workers,
    check_can_consume,
    fleet,
    gpu_pool,
    publish,
    withdraw,
)


@pytest.fixture
def beats() -> Heartbeats:
    yield from heartbeats()


def test_published_heartbeats_are_read_back(beats):
    beats.add("cpu@a", ("cpu",), concurrency=4)
    beats.add("gpu@b", ("gpu",), gpus=("GPU-1", "GPU-2"), concurrency=2)
    workers = {w.name: w for w in alive_workers(beats.client)}
    assert set(workers) == {"cpu@a", "gpu@b"}
    assert (workers["gpu@b"].queues, workers["gpu@b"].gpus) == (["gpu"], ["GPU-1", "GPU-2"])
    assert workers["cpu@a"].concurrency == 4 and workers["cpu@a"].consumes("cpu")
    assert not workers["cpu@a"].consumes("gpu")
    assert 0 <= workers["cpu@a"].age_s <= 1


def test_a_silent_worker_expires_and_a_stopped_one_is_withdrawn(beats):
    publish(beats.client, WorkerInfo("crashed@a", ["cpu"]), ttl_s=1)
    beats.add("stopped@b", ("cpu",))
    withdraw(beats.client, "stopped@b")
    assert [w.name for w in alive_workers(beats.client)] == ["crashed@a"]
    time.sleep(1.2)
    assert alive_workers(beats.client) == []


def test_unreadable_heartbeats_are_skipped_and_unknown_fields_ignored(beats):
    beats.client.set(KEY_PREFIX + "garbage", b"{not json", ex=30)
    beats.client.set(KEY_PREFIX + "newer", b'{"name": "newer", "queues": ["cpu"], "x": 1}', ex=30)
    assert [(w.name, w.queues) for w in alive_workers(beats.client)] == [("newer", ["cpu"])]


def test_heartbeat_thread_publishes_until_stopped(beats):
    beat = Heartbeat(FLEET_REDIS_URL, WorkerInfo("thread@a", ["cpu"], concurrency=3), every_s=0.1)
    beat.start()
    deadline = time.monotonic() + 5
    while not alive_workers(beats.client) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(w.name, w.concurrency) for w in alive_workers(beats.client)] == [("thread@a", 3)]
    beat.stop()
    assert alive_workers(beats.client) == []


def test_fleet_is_empty_when_redis_does_not_answer():
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "REDIS_URL": "redis://127.0.0.1:1/0"})
    started = time.monotonic()
    assert fleet(app) == []
    assert time.monotonic() - started < 5


def test_only_a_worker_with_gpus_may_consume_the_gpu_queue():
    check_can_consume({"cpu"}, [], {})
    check_can_consume({"gpu", "cpu"}, ["0"], {})
    with pytest.raises(WorkerConfigError, match="consumes the gpu queue but has no GPU"):
        check_can_consume({"gpu"}, [], {})
    check_can_consume({"gpu"}, [], {"GRADER_ALLOW_GPU_QUEUE_WITHOUT_GPU": "1"})


def test_gpu_pool_follows_the_settings(tmp_path):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "x",
        "GRADER_GPUS": "GPU-a,GPU-b",
        "GRADER_GPU_SHARING": "2",
        "GRADER_GPU_LOCK_DIR": str(tmp_path),
    }
    pool = gpu_pool(create_app(settings))
    assert (pool.devices, pool.sharing, pool.lock_dir, pool.capacity) == (
        ["GPU-a", "GPU-b"],
        2,
        tmp_path,
        4,
    )
    assert gpu_pool(create_app({**settings, "GRADER_GPUS": "none"})).devices == []


@pytest.fixture
def app_config(app_config):
    return {**app_config, "REDIS_URL": FLEET_REDIS_URL}


def test_workers_command_lists_live_workers_and_checks_one(runner, beats):
    """`flask workers` for IT staff; `--require NAME` is the compose health check."""
    beats.add("gpu@h1", ("gpu",), gpus=("GPU-1",), concurrency=2)
    result = runner.invoke(args=["workers", "--require", "gpu@h1"])
    assert result.exit_code == 0, result.output
    assert "gpu@h1  queues=gpu  gpus=GPU-1  runs=2" in result.output
    missing = runner.invoke(args=["workers", "--require", "cpu@h2"])
    assert missing.exit_code == 1 and "worker cpu@h2 has no live heartbeat" in missing.output
