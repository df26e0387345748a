"""The public banner endpoint: a site's live version resolved for the visitor's region and language.

This is the hot path: one request per page view of every site, mostly cache hits. It reads only in-memory state
(:mod:`consent.live`) and answers with an ETag, a Cache-Control fit for a CDN and a Vary that names exactly the
request headers the answer depended on. When the region came from the client's IP address, no header can
express that, so the answer is private to the browser.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl

from flask import Response, current_app, request
from flask_smorest import Blueprint, abort
from werkzeug.datastructures import Headers, ImmutableMultiDict

from ..core import language as lang
from ..core.siteconfig import LANGUAGE_PATTERN
from ..schemas.api import BannerSchema
from .visitors import allows_origin, locate

blp = Blueprint(
    "banner",
    __name__,
    url_prefix="/api/v1",
    description="Public: what the snippet fetches to render a site's banner.",
)


class PreparedResponse(Response):
    """A response whose headers are handed over as a ready list, with no Content-Type unless the list has one.

    Werkzeug checks each header as it is added, and again when it copies them to send: on this path that was a
    tenth of the request. The headers here are the ones :mod:`consent.live` built and checked once per banner,
    so they go in as they are (werkzeug's ``Headers`` keeps its items in ``_list``)."""

    default_mimetype = None  # a 304 carries no body, so no type

    def __init__(self, body: bytes | None, status: int, headers: list[tuple[str, str]]):
        prepared = Headers()
        prepared._list = headers
        super().__init__(body, status=status, headers=prepared)


@lru_cache(maxsize=1024)
def query_of(query_string: bytes) -> ImmutableMultiDict:
    """``request.args``, parsed as werkzeug does, once for each of the few distinct queries pages send."""
    text = query_string.decode(errors="replace")
    return ImmutableMultiDict(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))


JSON_TYPE = ("Content-Type", "application/json")

QUERY = [
    {
        "in": "query",
        "name": "lang",
        "schema": {"type": "string", "pattern": LANGUAGE_PATTERN.pattern},
        "description": "Language wanted; otherwise Accept-Language, else the site's default language.",
    },
    {
        "in": "query",
        "name": "region",
        "schema": {"type": "string", "example": "US-CA"},
        "description": "For testing: an ISO 3166-1 or 3166-2 code to use instead of the visitor's location. "
        "Refused in production unless the site allows it.",
    },
]


@blp.route("/banner/<site_key>", methods=["GET"])
@blp.doc(
    summary="A site's banner for the visitor's region and language",
    parameters=QUERY,
    # documented rather than wrapped by @blp.response: the view answers with bytes serialized once per version
    responses={
        "200": {"description": "OK", "content": {"application/json": {"schema": BannerSchema}}},
        "304": {"description": "Not modified (If-None-Match matched the ETag)."},
    },
)
def banner(site_key):
    app = current_app._get_current_object()  # the hot path: each proxy lookup costs; look up once
    visitor = request._get_current_object()
    site = app.extensions["cmp.live"].get(site_key)
    if site is None:
        abort(404, message=f"No published site {site_key!r}.")
    config = site.config
    args = query_of(visitor.query_string)
    location = locate(config, args.get("region"))

    wanted = args.get("lang")
    if wanted is not None:
        if not LANGUAGE_PATTERN.match(wanted):
            abort(400, errors={"query": {"lang": ["not a BCP 47 language tag such as 'en' or 'pt-BR'"]}})
        language = lang.negotiate([wanted], config.languages, config.site.default_language)
    else:
        requested = [value for value, quality in visitor.accept_languages if quality > 0]
        language = lang.negotiate(requested, config.languages, config.site.default_language)

    served = site.banner(location, language, by_accept_language=wanted is None)
    headers = list(served.headers)
    if site.stale:
        headers.append(("X-Served-Stale", "database unreachable; last known live version"))
    origin = visitor.headers.get("Origin")
    if origin and allows_origin(config, origin):
        headers.append(("Access-Control-Allow-Origin", origin))
    if visitor.if_none_match.contains_weak(served.etag):
        return PreparedResponse(None, 304, headers)
    headers.append(JSON_TYPE)
    return PreparedResponse(served.body, 200, headers)
