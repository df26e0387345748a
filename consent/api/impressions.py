"""Public: the snippet says a banner was shown, and the service adds one to a counter (site, UTC day, published
version, region). Nothing about the visitor is kept: no IP address, no consent ID, no row per visitor. Accepted from
the site's own pages only, rate-limited per address and site like decisions, and never counted for bots.

The body is JSON, sent as ``application/json`` or as ``text/plain``: ``navigator.sendBeacon`` (which survives the
page being closed) can send only the latter without a CORS preflight.
"""

from __future__ import annotations

import json

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError

from .. import publishing, recording
from ..schemas.audit import ImpressionAnswerSchema, ImpressionSchema
from .visitors import allow_site_pages, allows_origin, locate

blp = Blueprint(
    "impressions",
    __name__,
    url_prefix="/api/v1",
    description="Public: count a banner shown, for the site's consent-rate report (no identifier is kept).",
)
BODY_TYPES = ("application/json", "text/plain")


allow_site_pages(blp, methods="POST")


def _body() -> dict:
    if request.mimetype not in BODY_TYPES:
        abort(415, message="Send the body as JSON (Content-Type: application/json or text/plain).")
    try:
        data = json.loads(request.get_data(cache=False) or b"null")
    except ValueError:
        abort(400, errors={"json": ["Invalid JSON body."]}, message="The body is not JSON.")
    try:
        return ImpressionSchema().load(data)
    except ValidationError as error:
        abort(422, errors={"json": error.messages}, message="The impression is not valid; see 'errors'.")


@blp.route("/impressions/<site_key>")
class Impressions(MethodView):
    @blp.doc(
        summary="Count one banner shown",
        description="Call it when the banner appears. Counted per site, UTC day, version and region; no identifier "
        "of the visitor is kept. Bots are answered `counted: false`.",
        requestBody={
            "required": True,
            "content": {media: {"schema": ImpressionSchema} for media in BODY_TYPES},
        },
    )
    @blp.response(202, ImpressionAnswerSchema)
    @blp.alt_response(200, schema=ImpressionAnswerSchema, description="A bot: nothing counted.")
    def post(self, site_key):
        limiter = current_app.extensions["cmp.impression_limit"]
        verdict = limiter.hit("impressions", request.remote_addr or "unknown", site_key)  # apart from decisions
        if not verdict.allowed:
            abort(
                429,
                message=f"Too many impressions from this address for this site ({verdict.limit}); retry later.",
                headers={"Retry-After": str(verdict.retry_after)},
            )
        live = current_app.extensions["cmp.live"].get(site_key)
        if live is None:
            abort(404, message=f"No published site {site_key!r}.")
        origin = request.headers.get("Origin")
        if origin and not allows_origin(live.config, origin):
            abort(403, message="Impressions are accepted from the site's own pages only.")
        data = _body()
        if recording.classify(request.user_agent.string).bot:
            return {"counted": False, "reason": "bot"}, 200
        version = publishing.published(site_key, data["version"])
        if version is None:
            abort(422, errors={"json": {"version": ["not a version this site has published"]}})
        location = locate(version.config, data.get("region"), field=("json", "region"))
        region = location.region
        current_app.extensions["cmp.impressions"].add(
            version.site_id, data["version"], region.subdivision or region.country or "unknown"
        )
        return {"counted": True}, 202
