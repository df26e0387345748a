"""gunicorn in production:

    gunicorn -c deploy/gunicorn.conf.py "consent:create_app()"

Threaded workers (the service waits on its database more than it computes), timeouts that free a stuck worker,
request limits that refuse oversized headers before the app sees them, JSON access logs carrying the request ID,
and Prometheus counts shared by every worker. Each value can be set with the environment variable beside it;
the service's own settings are the ``CMP_*`` variables of docs/operators.md.
"""

import json
import os
import shutil
import tempfile
from datetime import UTC, datetime

from gunicorn.glogging import Logger

bind = os.environ.get("CMP_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("CMP_WORKERS", os.cpu_count() or 2))
threads = int(os.environ.get("CMP_THREADS", "4"))
timeout = int(os.environ.get("CMP_WORKER_TIMEOUT", "30"))  # a worker silent this long is killed and replaced
graceful_timeout = 20  # on a restart, requests in flight get this long to finish
keepalive = 5
# A worker takes new connections until it holds this many. Keep-alive connections stay with the worker that took
# them, so behind a proxy that keeps a few long-lived connections open, a cap near (proxy connections / workers)
# spreads them over every worker instead of letting one take them all.
worker_connections = int(os.environ.get("CMP_WORKER_CONNECTIONS", "1000"))
# Workers are recycled now and then, so that nothing grows without bound; not often, since each recycled worker
# also leaves its metrics file behind for /metrics to read.
max_requests = 1_000_000
max_requests_jitter = 100_000
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("CMP_FORWARDED_ALLOW_IPS", "127.0.0.1")  # proxies whose X-Forwarded-* count
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeats off disk
accesslog = os.environ.get("CMP_ACCESS_LOG", "-")
errorlog = "-"

# Each worker counts in its own process; prometheus_client keeps the counts in files in this folder, which
# /metrics (served by any worker) adds up. It must be set before the app, and prometheus_client, are imported.
METRICS_DIR = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="cmp-metrics-"))


def on_starting(server):
    shutil.rmtree(METRICS_DIR, ignore_errors=True)  # counts of an earlier run would add up with ours
    os.makedirs(METRICS_DIR, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class JsonAccessLog(Logger):
    """One JSON object per request, escaped properly (gunicorn's access_log_format is not JSON-safe)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = dict(resp.headers) if resp.headers else {}
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "logger": "access",
            "method": req.method,
            "path": req.path,
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "remote": environ.get("REMOTE_ADDR"),
            "request_id": next((v for k, v in headers.items() if k.lower() == "x-request-id"), None),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        self.access_log.info(json.dumps(entry))


logger_class = JsonAccessLog
