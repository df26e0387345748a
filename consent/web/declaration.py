"""What a site declares, for anyone to read: its cookie declaration (a page, a fragment to embed in the owner's
cookie policy, JSON), the archive of every version it published with the dates each was in effect, and
``/.well-known/gpc.json`` for its domains."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy import select

from .. import publishing
from ..core import declaration as declared
from ..core import language as lang
from ..core.siteconfig import SignalTreatment, SiteConfig
from ..extensions import db
from ..models import Publication, PublishedVersion, Site, SiteDomain
from .wording import words

bp = Blueprint("declaration", __name__, template_folder="templates")

PAGE_POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'"


def page_policy(frame_ancestors: str = "'none'") -> str:
    return f"{PAGE_POLICY}; frame-ancestors {frame_ancestors}"


def site_or_404(site_key: str) -> Site:
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if site is None:
        abort(404)
    return site


def live_or_404(site_key: str) -> tuple[Site, PublishedVersion, SiteConfig]:
    """A site, its live version and that version's configuration; 404 for a site with nothing published."""
    site = site_or_404(site_key)
    version = publishing.live_version(site)
    if version is None:
        abort(404)
    return site, version, publishing.config_of(version.document)


def chosen_language(config) -> str:
    wanted = request.args.get("lang")
    requested = [wanted] if wanted else [value for value, quality in request.accept_languages if quality > 0]
    return lang.negotiate(requested, config.languages, config.site.default_language)


def periods(site: Site) -> list[dict]:
    """Every version the site published, newest first, with each stretch of time it was live."""
    publications = db.session.scalars(
        select(Publication).where(Publication.site_id == site.id).order_by(Publication.id)
    ).all()
    stretches: dict[int, list[tuple]] = {}
    for current, following in zip(publications, [*publications[1:], None], strict=True):
        end = following.published_at if following else None
        stretches.setdefault(current.version_id, []).append((current.published_at, end))
    live = publications[-1].version_id if publications else None
    return [
        {"version": version, "stretches": stretches.get(version.id, []), "live": version.id == live}
        for version in publishing.versions(site)
    ]


def _render(site: Site, version: PublishedVersion, embed: bool):
    config = publishing.config_of(version.document)
    language = chosen_language(config)
    history = periods(site)
    since = next((p["stretches"][-1][0] for p in history if p["version"].id == version.id and p["stretches"]), None)
    page = render_template(
        "declaration.html",
        declaration=declared.declaration(config, language),
        words=words(language),
        version=version,
        since=since,
        live=history[0]["version"].id == version.id if history else False,
        embed=embed,
        languages=config.languages,
        earlier=len(history) > 1,
    )
    ancestors = " ".join(f"https://{d}" for d in config.site.domains) if embed else "'none'"
    return page, {"Content-Security-Policy": page_policy(ancestors), "Content-Language": language}


@bp.get("/sites/<site_key>/declaration")
def declaration_page(site_key: str):
    """The live declaration; ``?embed=1`` gives the fragment an owner frames in their own cookie policy."""
    site, version, _ = live_or_404(site_key)
    return _render(site, version, embed=request.args.get("embed") == "1")


@bp.get("/sites/<site_key>/declaration.json")
def declaration_json(site_key: str):
    _, version, config = live_or_404(site_key)
    body = {"version": version.hash, **declared.declaration(config, chosen_language(config))}
    return jsonify(body), 200, {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}


@bp.get("/sites/<site_key>/versions")
def versions_page(site_key: str):
    site, _, config = live_or_404(site_key)
    language = chosen_language(config)
    page = render_template("versions.html", site=site, periods=periods(site), words=words(language), language=language)
    return page, {"Content-Security-Policy": page_policy(), "Content-Language": language}


@bp.get("/sites/<site_key>/versions/<digest>/declaration")
def archived_declaration(site_key: str, digest: str):
    site = site_or_404(site_key)
    version = publishing.find_version(site, digest)
    if version is None:
        abort(404)
    return _render(site, version, embed=False)


@bp.get("/.well-known/gpc.json")
def gpc_json():
    """The Global Privacy Control support resource (GPC spec section 3.4) for the site whose domain this request
    came to: an owner routes ``/.well-known/gpc.json`` on their domains to the service (docs/owners.md)."""
    host = request.host.split(":", 1)[0].lower()
    site = db.session.scalar(select(Site).join(SiteDomain).where(SiteDomain.domain.in_([host, "*." + host])))
    if site is None and "." in host:
        parent = "*." + host.split(".", 1)[1]
        site = db.session.scalar(select(Site).join(SiteDomain).where(SiteDomain.domain == parent))
    live = publishing.live_version(site) if site else None
    if live is None:
        abort(404)
    config = publishing.config_of(live.document)
    honoured = any(rule.gpc != SignalTreatment.IGNORE for rule in config.rules)
    went_live = db.session.scalar(
        select(Publication.published_at).where(Publication.version_id == live.id).order_by(Publication.id.desc())
    )
    body = {"gpc": honoured, "lastUpdate": went_live.date().isoformat()}
    headers = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=86400"}
    return jsonify(body), 200, headers
