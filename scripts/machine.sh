#!/usr/bin/env bash
# Bring up what DL Grader needs on this machine, idempotently, and say what was done:
# the Docker engine and Redis; with --test also what the test suite drives (Chromium for
# the browser tests, the docker-compose CLI that checks docker-compose.yml).
# `make run`, `make test` and `.ci/run` all call this one script.
#
#   bash scripts/machine.sh [--test]
#
# As root with apt-get it installs what is missing (docker.io, chromium) and starts the
# engine and Redis itself; otherwise it prints the exact commands and fails, naming what is
# missing. Nothing is touched that already works (DOCKER_HOST and REDIS_URL are honoured).
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { echo "[machine] $*"; }
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    say "installing $* (apt-get)"
    apt-get update -qq >/dev/null
    apt-get install -y -qq "$@" >/dev/null
}
missing=()

# --- Docker engine -----------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
    say "Docker engine: answering"
else
    if ! command -v dockerd >/dev/null; then
        if can_install; then apt_install docker.io; else missing+=("docker"); fi
    fi
    if command -v dockerd >/dev/null && [ -z "${DOCKER_HOST:-}" ] && [ "$(id -u)" = 0 ]; then
        say "starting dockerd (log: /tmp/dockerd.log)"
        (setsid dockerd --storage-driver=overlay2 >/tmp/dockerd.log 2>&1 &)
        for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    fi
    if docker info >/dev/null 2>&1; then
        say "Docker engine: started"
    else
        missing+=("a running Docker engine")
        echo "  as root: apt-get install -y docker.io && (dockerd --storage-driver=overlay2 &)" >&2
        echo "  or: sudo systemctl start docker, or set DOCKER_HOST to an engine" >&2
        [ -f /tmp/dockerd.log ] && tail -5 /tmp/dockerd.log >&2
    fi
fi

# --- Redis ---------------------------------------------------------------------------------
redis_url="${REDIS_URL:-redis://127.0.0.1:6379/0}"
redis_hostport="${redis_url#redis://}"
redis_hostport="${redis_hostport%%/*}"
redis_host="${redis_hostport%%:*}"
redis_port="${redis_hostport##*:}"
[ "$redis_port" = "$redis_host" ] && redis_port=6379
redis_up() { (exec 3<>"/dev/tcp/${redis_host}/${redis_port}") 2>/dev/null; }
if redis_up; then
    say "Redis at ${redis_host}:${redis_port}: answering"
elif [ "$redis_host" = 127.0.0.1 ] || [ "$redis_host" = localhost ]; then
    if ! command -v redis-server >/dev/null; then
        if can_install; then apt_install redis-server; fi
    fi
    if command -v redis-server >/dev/null; then
        say "starting redis-server on port ${redis_port}"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" \
            --appendonly no >/dev/null
        for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
    fi
    redis_up || { missing+=("Redis"); echo "  install redis-server and start it" >&2; }
else
    missing+=("Redis at ${redis_host}:${redis_port}")
fi

# --- What the tests drive: Chromium, docker-compose ----------------------------------------
if [ "$want_test" = 1 ]; then
    for tool in chromium docker-compose; do
        if command -v "$tool" >/dev/null; then
            say "$tool: $(command -v "$tool")"
        elif can_install; then
            apt_install "$tool"
            say "$tool: installed"
        else
            missing+=("$tool")
            echo "  as root: apt-get install -y $tool" >&2
        fi
    done
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "[machine] missing: ${missing[*]} (the commands above bring them up)" >&2
    exit 1
fi
