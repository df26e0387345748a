"""The production command of docs/operators.md: gunicorn with deploy/gunicorn.conf.py, several workers."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, SIGNING_KEY, load_examples, make_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.fixture
def gunicorn(database_url, tmp_path):
    load_examples(make_app(database_url), [ROOT / "examples" / "quadient.yaml"])
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CMP_", "PROMETHEUS_"))},
        "CMP_ENV": "production",
        "CMP_SECRET_KEY": "s" * 40,
        "CMP_SIGNING_KEY": SIGNING_KEY,
        "CMP_DATABASE_URL": database_url,
        "CMP_REGION_OVERRIDE": "true",
        "CMP_BIND": f"127.0.0.1:{port}",
        "CMP_WORKERS": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "consent:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for _ in range(100):
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"gunicorn did not start:\n{log.read_text()}")
        yield port, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_gunicorn_serves_with_several_workers_counted_together_and_logged_in_json(gunicorn):
    port, log = gunicorn
    assert get(port, "/readyz")[0] == 200
    answered = [get(port, "/api/v1/banner/quadient?region=FR") for _ in range(40)]  # spread over both workers
    assert {status for status, _, _ in answered} == {200}
    status, _, body = get(port, "/metrics")
    line = 'cmp_http_requests_total{endpoint="/api/v1/banner/<site_key>",method="GET",status="200"} 40.0'
    assert status == 200 and line in body.decode()
    for _ in range(50):  # the access log is written after the response is sent
        entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith('{"time"')]
        banner_entries = [e for e in entries if e["path"] == "/api/v1/banner/quadient"]
        if len(banner_entries) == 40:
            break
        time.sleep(0.1)
    assert len(banner_entries) == 40
    assert banner_entries[-1]["request_id"] == answered[-1][1]["X-Request-ID"]
