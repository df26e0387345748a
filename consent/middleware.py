"""What every response gets, whatever answered it (a view, an error handler, a 404): a request ID, the security
headers, and its count and latency in the metrics.

It is WSGI middleware rather than Flask hooks because it then costs the hot banner path a few microseconds, and
because it also sees the responses Flask's hooks do not (a request refused before routing).
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

# A JSON API and a few pages: nothing may frame it, sniff a type, or leak a URL in a Referer. Pages that set a
# policy of their own (the visitor pages, framed by the owner's site when embedded) keep theirs.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "cross-origin"),  # the snippet and the banner are for other sites' pages
]
DEFAULT_CSP = ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
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
        token = REQUEST_ID.set(request_id)
        status_code, endpoint = "500", "unmatched"

        def respond(status, headers, exc_info=None):
            nonlocal status_code, endpoint
            status_code = status[:3]
            request = environ.get("werkzeug.request")  # Flask's, while its request context lasts: until now
            if (rule := getattr(request, "url_rule", None)) is not None:
                endpoint = rule.rule
            own_policy = any(name.lower() == "content-security-policy" for name, _ in headers)
            headers.append(("X-Request-ID", request_id))
            headers.extend(SECURITY_HEADERS)
            if not own_policy:
                headers.append(DEFAULT_CSP)
            if environ.get("wsgi.url_scheme") == "https":  # as ProxyFix, inside, found it: the client's scheme
                headers.append(HSTS)
            return start_response(status, headers, exc_info)

        iterable = None
        try:
            iterable = self.wsgi_app(environ, respond)
            yield from iterable
        finally:
            if hasattr(iterable, "close"):
                iterable.close()  # PEP 3333: streamed responses end their request context here
            REQUEST_ID.reset(token)
            self._count(endpoint, environ.get("REQUEST_METHOD", "-"), status_code, time.perf_counter() - started)

    def _count(self, endpoint: str, method: str, status: str, seconds: float) -> None:
        children = self._counted.get((endpoint, method, status))
        if children is None:
            children = (metrics.REQUESTS.labels(endpoint, method, status), metrics.LATENCY.labels(endpoint))
            if len(self._counted) < 10_000:  # routes x methods x statuses: small, unless something is wrong
                self._counted[(endpoint, method, status)] = children
        children[0].inc()
        children[1].observe(seconds)
