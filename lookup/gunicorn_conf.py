"""gunicorn's configuration for `make serve`: threaded workers, graceful stops, shared metrics.

Everything comes from the environment (see the deployment table in README.md). The master
validates the configuration before any worker forks and refuses to start on a problem.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile

from lookup.env import env_int, env_str

bind = f"{env_str('HOST', '127.0.0.1')}:{env_int('PORT', 8000, minimum=1)}"
worker_class = "gthread"
# Threaded workers: a lookup mostly waits on Capillary, so threads, not processes, carry the
# concurrency; one process per core keeps the Python work parallel.
workers = env_int("WEB_CONCURRENCY", max(2, os.cpu_count() or 1), minimum=1)
threads = env_int("GUNICORN_THREADS", 8, minimum=1)
# SIGTERM: stop accepting, let in-flight requests (and their audit records) finish.
graceful_timeout = env_int("GRACEFUL_TIMEOUT", 30, minimum=1)
timeout = env_int("GUNICORN_TIMEOUT", 60, minimum=1)
keepalive = 5
accesslog = "-" if env_str("GUNICORN_ACCESS_LOG", "false").lower() in ("1", "true") else None
loglevel = env_str("LOG_LEVEL", "INFO").lower()
wsgi_app = "lookup.wsgi:application"
raw_env = ["DJANGO_SETTINGS_MODULE=lookup.settings"]
# gunicorn's control socket sits at one path per user: instances on one host would collide.
control_socket_disable = True

# prometheus-client's multiprocess mode: each worker writes its samples to files in this
# directory and /metrics adds them up. It must be set before prometheus_client is imported.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lookup-metrics-")
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def on_starting(server) -> None:
    """Validate the configuration (one line per problem), collect static files, clear metrics."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lookup.settings")
    for path in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(path)  # a previous run's samples would be added to this one's
    from lookup import preflight

    try:
        preflight.run_or_exit(server.cfg.workers)
    except SystemExit:
        on_exit(server)  # gunicorn does not call it for a master that never started
        raise


def child_exit(server, worker) -> None:
    """Keep a dead worker's counters but drop its live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker) -> None:
    """Hand the status page this worker's last few seconds of counts before it goes."""
    try:
        from lookup.services import stats

        stats.flush()
    except Exception:  # noqa: BLE001 - a worker on its way out must not fail to exit
        server.log.exception("could not flush the status counts")


def on_exit(server) -> None:
    """Remove the metrics directory this master made for itself."""
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
