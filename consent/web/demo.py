"""Demo pages: each example site's snippet embedded exactly as its owner would, next to fake tags that show on
the page whether they ran. Served outside production only, from the service's own origin (which the public API
accepts outside production, see :func:`consent.api.visitors.is_own_origin`).

The page is served under a strict Content-Security-Policy with a nonce, as careful owners serve theirs: the
snippet must work there (it carries the nonce to the scripts it activates).
"""

from __future__ import annotations

import base64
import secrets

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request, url_for
from sqlalchemy import select

from .. import publishing
from ..core.siteconfig import Party, Purpose, SiteConfig, StorageType
from ..extensions import db
from ..live import LiveSite
from ..models import Site

bp = Blueprint("demo", __name__, template_folder="templates")

REGIONS = (
    ("FR", "France (EEA: opt-in)"),
    ("GB", "United Kingdom"),
    ("US-CA", "California (opt-out, GPC binding)"),
    ("US-TX", "Texas"),
    ("US-NV", "Nevada"),
    ("BR", "Brazil"),
    ("JP", "Japan"),
)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NETWORKS = {"linkedin": "LinkedIn", "facebook": "Facebook"}


@bp.before_request
def _not_in_production():
    if current_app.config["CMP_SETTINGS"].production:
        abort(404)


def demo_cookies(config: SiteConfig, category: str) -> list[str]:
    """The first-party cookies a category's vendors declare, patterns made concrete (``_ga_*`` -> ``_ga_DEMO``):
    what the fake tag of that category sets, so that an opt-out visibly deletes them."""
    names = []
    for vendor in config.vendors:
        if vendor.category != category:
            continue
        for item in vendor.cookies:
            if item.type == StorageType.COOKIE and item.party == Party.FIRST:
                names.append(item.name.replace("*", "DEMO"))
    return names


def fake_tags(config: SiteConfig) -> list[dict]:
    """One fake tag per optional category, shaped after what that kind of category loads."""
    tags = []
    for category in config.categories:
        if category.purpose == Purpose.NECESSARY:
            continue
        name = category.name.get(config.site.default_language) or next(iter(category.name.values()))
        tags.append(
            {
                "category": category.key,
                "purpose": str(category.purpose),
                "name": name,
                "cookies": " ".join(demo_cookies(config, category.key)),
                "social": category.purpose == Purpose.SOCIAL,
            }
        )
    return tags


def live_site(site_key: str) -> LiveSite:
    site = current_app.extensions["cmp.live"].get(site_key)
    if site is None:
        abort(404)
    return site


@bp.get("/demo/<site_key>")
def page(site_key: str):
    site = live_site(site_key)
    config = site.config
    analytics = next((c.key for c in config.categories if c.purpose == Purpose.ANALYTICS), None)
    nonce = secrets.token_urlsafe(16)
    region = request.args.get("region", "")
    language = request.args.get("lang", "")
    gpc = request.args.get("gpc") == "1"
    html = render_template(
        "demo.html",
        config=config,
        site_key=site_key,
        tags=fake_tags(config),
        google_category=analytics or next(c.key for c in config.categories if c.purpose != Purpose.NECESSARY),
        networks=NETWORKS if any(c.purpose == Purpose.SOCIAL for c in config.categories) else {},
        social=next((c.key for c in config.categories if c.purpose == Purpose.SOCIAL), None),
        nonce=nonce,
        region=region,
        language=language,
        regions=REGIONS,
        gpc=gpc,
        inline=request.args.get("inline") == "1",
        with_snippet=request.args.get("snippet") != "0",  # ?snippet=0: the same page without it (bench/snippet.py)
        in_body=request.args.get("tag") == "body",  # ?tag=body: the tag at the end of the body, deferred
        snippet_url=url_for("snippet.snippet"),
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
        "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/demo/widget/<network>")
def widget(network: str):
    """A stand-in for a social network's embedded widget (an iframe)."""
    if network not in NETWORKS:
        abort(404)
    response = make_response(render_template("demo_widget.html", network=NETWORKS[network]))
    # Framed by the demo pages, of the same origin (the service's default policy forbids any framing).
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; frame-ancestors 'self'; base-uri 'none'"
    )
    return response


@bp.get("/demo/pixel.gif")
def pixel():
    """A stand-in for an advertising pixel: an image request carrying the page."""
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})


def published_demo_sites() -> list[tuple[str, str]]:
    """(key, name) of every site with a live version, for ``cmp serve``."""
    sites = db.session.scalars(select(Site).order_by(Site.name)).all()
    return [(s.key, s.name) for s in sites if publishing.live_version(s) is not None]
