#!/usr/bin/env bash
# Serve the dashboard as in production: gunicorn's master validates the configuration,
# collects static files, then forks threaded workers (lookup/gunicorn_conf.py).
set -euo pipefail
cd "$(dirname "$0")/.."
# glibc gives each thread that allocates its own malloc arena (up to 8 per core), and an
# arena keeps what its thread freed for that thread alone. With 8-16 request threads per
# worker, that kept-but-free memory grew past 10 MB per worker under load and never came
# back. Two arenas let threads reuse each other's freed memory; the GIL already serialises
# most allocations, so sharing adds little contention.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/gunicorn -c python:lookup.gunicorn_conf
