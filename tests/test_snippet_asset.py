"""``/c.js``: the built snippet, compressed, cacheable, revalidated by a strong ETag; and the committed build is
the build of the source."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from consent.web.snippet import SNIPPET

JS = Path(__file__).resolve().parent.parent / "js-snippet"


def test_the_snippet_is_javascript_with_a_strong_etag_and_a_cache_lifetime(client):
    response = client.get("/c.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"].startswith("public, max-age=3600")
    assert not response.headers["ETag"].startswith("W/")
    assert response.data == SNIPPET.read_bytes()
    again = client.get("/c.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_snippet_loads_into_pages_that_isolate_themselves_and_sends_each_header_once(client):
    response = client.get("/c.js")
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"  # for pages with COEP require-corp
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    names = [name.lower() for name, _ in response.headers]
    assert len(names) == len(set(names)), names


def test_the_snippet_is_served_compressed_to_browsers_that_accept_it(client):
    zipped = client.get("/c.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(zipped.data) == SNIPPET.read_bytes()
    brotli = pytest.importorskip("brotli")
    compressed = client.get("/c.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(compressed.data) == SNIPPET.read_bytes()
    assert len({zipped.headers["ETag"], compressed.headers["ETag"], client.get("/c.js").headers["ETag"]}) == 3


def test_the_committed_snippet_is_the_build_of_its_source():
    if shutil.which("node") is None or not (JS / "node_modules" / "esbuild").exists():
        pytest.skip("no node or no js-snippet/node_modules (npm ci in js-snippet)")
    result = subprocess.run(["node", "build.mjs", "--check"], cwd=JS, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_demo_pages_are_not_served_in_production(database_url):
    from consent import create_app

    from .conftest import production_settings

    app = create_app(production_settings(database_url))
    assert app.test_client().get("/demo/quadient").status_code == 404
    assert app.test_client().get("/c.js").status_code == 200
