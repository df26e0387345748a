"""What every response gets, whatever answered it (a view, an error handler, a 404): a request ID, the security
headers, and its count and latency in the metrics.

It is WSGI middleware rather than Flask hooks because it then costs the hot banner path a few microseconds, and
because it also sees the responses Flask's hooks do not (a request refused before routing).
"""

from __future__ import annotations

import contextvars
import re
import secrets
import time

from . import metrics

REQUEST_ID = contextvars.ContextVar("request_id", default="-")
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# A JSON API and a few pages: nothing may frame it, sniff a type, or leak a URL in a Referer. Pages that need a
# policy of their own (with a nonce for their styles) set their Content-Security-Policy, which is then kept.
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "cross-origin"),  # the snippet and the banner are for other sites' pages
)
DEFAULT_CSP = ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class Observed:
    """Wraps the Flask app's ``wsgi_app``, ProxyFix included."""

    def __init__(self, app, wsgi_app, trust_request_id: bool):
        self.app = app
        self.wsgi_app = wsgi_app
        self.trust_request_id = trust_request_id  # behind a proxy that sets X-Request-ID

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        given = environ.get("HTTP_X_REQUEST_ID", "") if self.trust_request_id else ""
        request_id = given if VALID_REQUEST_ID.match(given) else secrets.token_hex(8)
        token = REQUEST_ID.set(request_id)
        status_code, endpoint = "500", "unmatched"

        def respond(status, headers, exc_info=None):
            nonlocal status_code, endpoint
            status_code = status[:3]
            request = environ.get("werkzeug.request")  # Flask's, while its request context lasts: until now
            if (rule := getattr(request, "url_rule", None)) is not None:
                endpoint = rule.rule
            names = {name.lower() for name, _ in headers}
            headers.append(("X-Request-ID", request_id))
            headers.extend(h for h in SECURITY_HEADERS if h[0].lower() not in names)
            if "content-security-policy" not in names:
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
            metrics.REQUESTS.labels(endpoint, environ.get("REQUEST_METHOD", "-"), status_code).inc()
            metrics.LATENCY.labels(endpoint).observe(time.perf_counter() - started)
