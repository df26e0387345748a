"""What operators rely on: request IDs, security headers, health and readiness, metrics and structured logs."""

from __future__ import annotations

import json

from .conftest import make_app
from .test_decisions import decide


def test_every_answer_carries_a_request_id_and_the_security_headers(client, quadient):
    for response in (client.get("/api/v1/banner/quadient?region=FR"), client.get("/no/such/page")):
        assert len(response.headers["X-Request-ID"]) == 16  # 8 hex of the process, 8 of its counter
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP: HSTS would mean nothing


def test_no_page_or_resource_sends_a_header_twice(client, quadient):
    urls = [
        "/",
        "/c.js",
        "/api/v1/banner/quadient?region=FR",
        "/api/openapi.json",
        "/sites/quadient/declaration",
        "/sites/quadient/versions",
        "/.well-known/consent-keys.json",
        "/healthz",
        "/demo/quadient",
        "/no/such/page",
    ]
    for url in urls:
        response = client.get(url, headers={"Origin": "https://www.quadient.com"})
        assert response.status_code in (200, 404), (url, response.status_code)
        names = [name.lower() for name, _ in response.headers]
        assert len(names) == len(set(names)), (url, names)


def test_hsts_is_sent_behind_https(database_url):
    app = make_app(database_url, proxy_hops=1)
    response = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_proxys_request_id_is_kept_only_when_trusted(database_url):
    untrusted = make_app(database_url).test_client().get("/healthz", headers={"X-Request-ID": "edge-42"})
    assert untrusted.headers["X-Request-ID"] != "edge-42"
    trusted = make_app(database_url, trust_request_id=True).test_client()
    assert trusted.get("/healthz", headers={"X-Request-ID": "edge-42"}).headers["X-Request-ID"] == "edge-42"
    assert trusted.get("/healthz", headers={"X-Request-ID": "bad id;"}).headers["X-Request-ID"] != "bad id;"


def test_liveness_and_readiness(client):
    assert client.get("/healthz").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["status"] == "ready"


def test_not_ready_until_the_database_is_migrated(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503 and response.json["migrations"]["current"] == []
    assert response.json["migrations"]["expected"]


def metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # the exposition sorts them
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_decisions_bots_and_the_log_lag(client, quadient):
    before = client.get("/metrics").text
    client.get("/api/v1/banner/quadient?region=FR")
    decide(client)
    decide(client, headers={"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"})
    after = client.get("/metrics").text
    banner = {"endpoint": "/api/v1/banner/<site_key>", "method": "GET", "status": "200"}
    assert metric(after, "cmp_http_requests_total", **banner) >= metric(before, "cmp_http_requests_total", **banner) + 1
    recorded = {"site": "quadient", "method": "reject_all"}
    assert metric(after, "cmp_decisions_recorded_total", **recorded) >= 1
    assert metric(after, "cmp_bots_refused_total", site="quadient") >= 1
    assert metric(after, "cmp_log_pending_records") == 1  # recorded, not yet in the log
    assert 'cmp_http_request_duration_seconds_bucket{endpoint="/api/v1/banner/<site_key>"' in after


def test_metrics_can_require_a_token(database_url):
    client = make_app(database_url, metrics_token="t" * 32).test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 32}).status_code == 200


def test_logs_are_json_lines_with_the_request_id(database_url, capsys):
    app = make_app(database_url, log_format="json")

    @app.get("/_test/log")
    def log_something():
        app.logger.warning("something worth a look")
        return "", 204

    response = app.test_client().get("/_test/log")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if line["message"] == "something worth a look"]
    assert logged["level"] == "WARNING" and logged["logger"] == "consent"
    assert logged["request_id"] == response.headers["X-Request-ID"] and logged["time"]


def test_what_a_streamed_body_logs_carries_its_request_id(database_url, capsys):
    app = make_app(database_url, log_format="json")

    @app.get("/_test/stream")
    def stream():
        def rows():  # as an export does: written after the view returned
            yield "first\n"
            app.logger.warning("halfway through a stream")
            yield "last\n"

        return app.response_class(rows(), mimetype="text/plain")

    response = app.test_client().get("/_test/stream")
    assert response.data == b"first\nlast\n"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if line["message"] == "halfway through a stream"]
    assert logged["request_id"] == response.headers["X-Request-ID"]
