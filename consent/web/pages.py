"""The landing page a newcomer opens after ``make run``: every example site, its live version, its compliance
warnings and its banner as served to visitors of three regions. Not served in production, where the list of
tenants is nobody's business."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from .. import publishing
from ..extensions import db
from ..models import Site

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/static")

SAMPLE_VISITORS = (
    ("FR", "an EEA visitor (France)"),
    ("US-CA", "a California visitor"),
    ("JP", "a visitor from elsewhere (Japan)"),
)


@bp.get("/")
def index():
    if current_app.config["CMP_SETTINGS"].production:
        abort(404)
    sites = []
    for site in db.session.scalars(select(Site).order_by(Site.name)):
        live = publishing.live_version(site)
        config = publishing.config_of(live.document) if live else None
        sites.append({"site": site, "live": live, "config": config})
    return render_template("index.html", sites=sites, visitors=SAMPLE_VISITORS)
