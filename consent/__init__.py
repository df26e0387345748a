"""A cookie consent management platform that can prove what it did.

``create_app`` builds the service: settings from the environment, then extensions, blueprints, error handlers
and CLI commands, one line each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    settings.check()
    settings.prepare()
    configure_logs(settings)
    app = Flask(__name__, static_folder=None)
    app.config.update(settings.flask_config(), **overrides)
    register_proxy_trust(app, settings)
    register_observation(app, settings)
    register_extensions(app, settings)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def configure_logs(settings: Settings) -> None:
    from .logs import configure

    configure(settings)


def register_proxy_trust(app: Flask, settings: Settings) -> None:
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def register_observation(app: Flask, settings: Settings) -> None:
    """Request IDs, security headers and metrics on every response."""
    from .middleware import Observed

    app.wsgi_app = Observed(app, app.wsgi_app, trust_request_id=settings.trust_request_id)


def register_extensions(app: Flask, settings: Settings) -> None:
    from . import partitions
    from .api.auth import SECURITY_SCHEME
    from .availability import DatabaseGate
    from .extensions import NoSessions, api, db, migrate
    from .geo import Locator
    from .keyring import KeyRing
    from .live import LiveSites
    from .logbook import Sequencer
    from .ratelimit import RateLimiter
    from .reporting import ImpressionCounter

    app.session_interface = NoSessions()
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS),
        render_as_batch=True,
        compare_type=True,
        include_object=partitions.not_a_partition,  # autogenerate leaves PostgreSQL's partitions alone
    )
    app.config["API_SPEC_OPTIONS"] = {
        "info": {"description": "Owner and public API of the consent management platform."},
        "components": {"securitySchemes": {"ApiKey": SECURITY_SCHEME}},
    }
    api.init_app(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    app.extensions["cmp.database"] = database = DatabaseGate()
    app.extensions["cmp.live"] = LiveSites(settings.site_cache_seconds, settings.banner_max_age, database)
    app.extensions["cmp.locator"] = Locator(settings.geo_headers, settings.geoip)
    app.extensions["cmp.keys"] = KeyRing(settings)
    app.extensions["cmp.decision_limit"] = RateLimiter(settings.rate_limit, settings.redis_url)
    app.extensions["cmp.impression_limit"] = RateLimiter(settings.impression_rate_limit, settings.redis_url)
    app.extensions["cmp.impressions"] = ImpressionCounter(app, settings.impression_flush_seconds)
    # Started by the first decision a process records (not a hook on every request: the banner's are hot).
    app.extensions["cmp.sequencer"] = (
        Sequencer(app, settings.checkpoint_seconds) if settings.checkpoint_seconds else None
    )


def register_blueprints(app: Flask) -> None:
    from .api import audit, banner, decisions, impressions, ops, owner
    from .extensions import api
    from .web import declaration, demo, pages, preferences, snippet

    api.register_blueprint(owner.blp)
    api.register_blueprint(banner.blp)
    api.register_blueprint(decisions.blp)
    api.register_blueprint(decisions.keys_blp)
    api.register_blueprint(impressions.blp)
    api.register_blueprint(audit.blp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(snippet.bp)
    app.register_blueprint(demo.bp)
    app.register_blueprint(declaration.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(ops.bp)


def register_errorhandlers(app: Flask) -> None:
    from .api.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from .cli import cmp

    app.cli.add_command(cmp)


def schema_name(schema) -> str:
    """OpenAPI component names: the schema class without 'Schema', 'Patch' for partial updates."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema").lstrip("_")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name
