"""``/c.js``: the embeddable snippet, built from ``js-snippet/src`` into ``static/c.js``.

It is one small immutable file per deployment, so it is compressed once per process (gzip -9, and brotli when
the ``brotli`` package is installed) rather than on every request, and served with a strong ETag per encoding.
Owners paste a fixed URL, which cannot carry a version, so browsers and CDNs keep it for an hour and then
revalidate with the ETag (a 304), serving the stale copy meanwhile; a new release reaches every page within
the hour.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, request

bp = Blueprint("snippet", __name__)

SNIPPET = Path(__file__).resolve().parent / "static" / "c.js"
CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400, stale-if-error=604800"


@dataclass(frozen=True)
class Encoded:
    body: bytes
    etag: str


@cache
def encodings() -> dict[str | None, Encoded]:
    """The file as each encoding serves it; ``None`` is the identity."""
    raw = SNIPPET.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:20]
    found: dict[str | None, Encoded] = {
        None: Encoded(raw, digest),
        "gzip": Encoded(gzip.compress(raw, 9, mtime=0), f"{digest}-gz"),
    }
    try:
        import brotli
    except ImportError:
        pass
    else:
        found["br"] = Encoded(brotli.compress(raw, quality=11), f"{digest}-br")
    return found


def negotiate(available: dict[str | None, Encoded]) -> str | None:
    accepted = request.accept_encodings
    for name in ("br", "gzip"):
        if name in available and accepted[name] > 0:
            return name
    return None


@bp.get("/c.js")
def snippet() -> Response:
    available = encodings()
    encoding = negotiate(available)
    served = available[encoding]
    headers = {
        "ETag": f'"{served.etag}"',
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",  # lets owners add Subresource Integrity (crossorigin="anonymous")
        # a plain <script src> on a page that requires it (Cross-Origin-Embedder-Policy) loads only with this
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.if_none_match.contains(served.etag):
        return Response(status=304, headers=headers)
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(served.body, headers=headers, content_type="text/javascript; charset=utf-8")
