"""What every response gets, whatever answered it (a view, an error handler, a 404): a request ID, the security
headers its kind of content needs, and its count and latency in the metrics.

It is WSGI middleware rather than Flask hooks because it then costs the hot banner path a few microseconds, and
because it also sees the responses Flask's hooks do not (a request refused before routing). Latency is measured
to the start of the response: for a streamed export, the time to its first byte.
"""

from __future__ import annotations

import contextvars
import itertools
import re
import secrets
import time

from . import metrics

REQUEST_ID = contextvars.ContextVar("request_id", default="-")
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Every response: the type it says is the type it is. Documents (HTML) also get a policy, unless they set their
# own (the visitor pages, framed by an owner's site when embedded), and send no Referer to where they link.
# Anything else (JSON, CSV, ZIP) may never be framed or run anything, should a browser open it.
NOSNIFF = ("X-Content-Type-Options", "nosniff")
DOCUMENT_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
]
RESOURCE_CSP = ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class RequestIds:
    """IDs unique across processes and restarts without a system call per request: a random prefix drawn once
    per process, then a counter."""

    def __init__(self):
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):08x}"


class Observed:
    """Wraps the Flask app's ``wsgi_app``, ProxyFix included."""

    def __init__(self, app, wsgi_app, trust_request_id: bool):
        self.app = app
        self.wsgi_app = wsgi_app
        self.trust_request_id = trust_request_id  # behind a proxy that sets X-Request-ID
        self.ids = RequestIds()
        self._counted: dict[tuple[str, str, str], tuple] = {}  # the metrics' children, found once per label set

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID") if self.trust_request_id else None
        request_id = given if given and VALID_REQUEST_ID.match(given) else self.ids.next()
        # Set, never reset: the ID stays with this thread until its next request, because a streamed body (an
        # export) is written after this call returns, and what it logs must carry the ID too.
        REQUEST_ID.set(request_id)

        def respond(status, headers, exc_info=None):
            request = environ.get("werkzeug.request")  # Flask's, while its request context lasts: until now
            rule = getattr(request, "url_rule", None)
            self._count(rule.rule if rule else "unmatched", environ["REQUEST_METHOD"], status[:3], started)
            document = own_policy = False
            for name, value in headers:
                lowered = name.lower()
                if lowered == "content-type":
                    document = value.startswith("text/html")
                elif lowered == "content-security-policy":
                    own_policy = True
            headers.append(("X-Request-ID", request_id))
            headers.append(NOSNIFF)  # views leave it to this: it would be sent twice
            if not own_policy:
                headers.extend(DOCUMENT_HEADERS) if document else headers.append(RESOURCE_CSP)
            if environ.get("wsgi.url_scheme") == "https":  # as ProxyFix, inside, found it: the client's scheme
                headers.append(HSTS)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, respond)

    def _count(self, endpoint: str, method: str, status: str, started: float) -> None:
        children = self._counted.get((endpoint, method, status))
        if children is None:
            children = (metrics.REQUESTS.labels(endpoint, method, status), metrics.LATENCY.labels(endpoint))
            if len(self._counted) < 10_000:  # routes x methods x statuses: small, unless something is wrong
                self._counted[(endpoint, method, status)] = children
        children[0].inc()
        children[1].observe(time.perf_counter() - started)
