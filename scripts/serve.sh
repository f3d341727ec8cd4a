#!/usr/bin/env bash
# Serve the dashboard as in production: gunicorn's master validates the configuration,
# collects static files, then forks threaded workers (lookup/gunicorn_conf.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/gunicorn -c python:lookup.gunicorn_conf
