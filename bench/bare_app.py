"""The baseline of the benchmarks: a bare Flask app with one GET and one POST endpoint and nothing else.

It serves precomputed JSON bytes (by default the very banner body the benchmark fetched, passed in
``BENCH_BODY_FILE``; otherwise a synthetic JSON document of ``BENCH_BODY_BYTES`` bytes) with an ETag, and answers
``If-None-Match`` with a bodiless 304 the same simple way the banner endpoint does; and it takes a posted JSON
body as the decision endpoint does. Served by gunicorn with the same options as the real app, the gap between the
two is the per-request overhead of our code, not the cost of HTTP, gunicorn, Flask or the body size.

    gunicorn -k gthread -w 2 --threads 4 "bench.bare_app:create_app()"
"""

from __future__ import annotations

import hashlib
import json
import os

from flask import Flask, Response, request


def synthetic_body(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least 16)."""
    base = json.dumps({"padding": ""}, separators=(",", ":")).encode()
    return json.dumps({"padding": "x" * max(size - len(base), 0)}, separators=(",", ":")).encode()


def load_body() -> bytes:
    if path := os.environ.get("BENCH_BODY_FILE"):
        with open(path, "rb") as f:
            return f.read()
    return synthetic_body(int(os.environ.get("BENCH_BODY_BYTES", "4096")))


def create_app(body: bytes | None = None) -> Flask:
    body = load_body() if body is None else body
    etag = hashlib.sha256(body).hexdigest()[:16]
    headers = {"ETag": f'"{etag}"', "Cache-Control": "public, max-age=300"}
    headers |= dict(json.loads(os.environ.get("BENCH_EXTRA_HEADERS", "[]")))  # bench/banner.py --same-headers

    app = Flask(__name__, static_folder=None)

    @app.get("/bare")
    def bare():
        if request.if_none_match.contains_weak(etag):
            return Response(status=304, headers=headers)
        return Response(body, status=200, headers=headers, mimetype="application/json")

    answer = synthetic_body(int(os.environ.get("BENCH_ANSWER_BYTES", "900")))

    @app.post("/bare")
    def bare_post():
        """The baseline of the decision benchmark: parse the posted JSON, answer 201 with a body of the size of a
        decision's answer (its receipt included)."""
        if not isinstance(request.get_json(silent=True), dict):
            return Response(status=400)
        return Response(answer, status=201, mimetype="application/json")

    return app
