#!/usr/bin/env bash
# Start DL Grader on one machine: checks, migrations, assignments, demo accounts, worker, web.
# Called by `make run`; the virtualenv already exists. Ctrl-C stops the worker and the site.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
FLASK=(.venv/bin/flask --app webapp)
export PORT="${PORT:-5000}"
export REDIS_URL="${REDIS_URL:-redis://localhost:6379/0}"
export SESSION_COOKIE_SECURE=0  # plain http on 127.0.0.1: a Secure cookie would never come back

mkdir -p instance
$PY scripts/preflight.py  # Docker reachable, Redis answering (starts a local one if it can)
bash grader/images/build_local.sh
"${FLASK[@]}" db upgrade
"${FLASK[@]}" assignments sync
"${FLASK[@]}" demo
"${FLASK[@]}" gradebook seed  # the course scheme, once; later runs add new programming assignments

.venv/bin/celery -A webapp.jobs.worker worker -B -Q cpu --concurrency "${WORKER_CONCURRENCY:-2}" \
    --loglevel INFO --schedule instance/celerybeat-schedule &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo
echo "DL Grader is at http://127.0.0.1:${PORT}/  (Ctrl-C stops the site and the worker)"
"${FLASK[@]}" run --host 127.0.0.1 --port "$PORT"
