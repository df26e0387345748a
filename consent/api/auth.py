"""Who is calling the owner API, and which site they may read or change.

A key sent as ``Authorization: Bearer cmp_...`` acts on its own site only (owner: read and write; auditor:
read); the operator's admin key acts on every site. Another site's key gets 403, whatever it asks, and
whether or not that site exists.
"""

from __future__ import annotations

from flask import g, request
from flask_smorest import abort
from sqlalchemy import select

from .. import keys
from ..extensions import db
from ..models import ApiKey, Site

SECURITY = [{"ApiKey": []}]
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API key (`cmp_...`): owner keys read and change one site, auditor keys read it, "
    "the operator's admin key acts on every site.",
}


def current_key() -> ApiKey:
    if "api_key" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        key = keys.find(secret.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            abort(
                401,
                message="Send a valid API key as 'Authorization: Bearer cmp_...'.",
                headers={"WWW-Authenticate": 'Bearer realm="consent"'},
            )
        g.api_key = key
    return g.api_key


def require_admin() -> ApiKey:
    key = current_key()
    if key.role != keys.Role.ADMIN:
        abort(403, message="Only the operator's admin key can do this.")
    return key


def site_for(site_key: str, *, write: bool = False) -> Site:
    """The site ``site_key`` names, if the caller's key may read it (or change it, with ``write``)."""
    key = current_key()
    if write and not keys.Role(key.role).can_write:
        abort(403, message="This API key is read-only (auditor).")
    site = db.session.scalar(select(Site).where(Site.key == site_key))
    if key.role != keys.Role.ADMIN and (site is None or key.site_id != site.id):
        abort(403, message="This API key belongs to another site.")  # whether that site exists or not
    if site is None:
        abort(404, message=f"No site {site_key!r}.")
    return site
