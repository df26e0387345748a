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
    app = Flask(__name__, static_folder=None)
    app.config.update(settings.flask_config(), **overrides)
    register_proxy_trust(app, settings)
    register_extensions(app, settings)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_proxy_trust(app: Flask, settings: Settings) -> None:
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def register_extensions(app: Flask, settings: Settings) -> None:
    from .api.auth import SECURITY_SCHEME
    from .extensions import api, db, limiter, migrate
    from .geo import Locator
    from .keyring import KeyRing
    from .live import LiveSites
    from .logbook import Sequencer

    db.init_app(app)
    app.config["RATELIMIT_STORAGE_URI"] = settings.redis_url or "memory://"
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = bool(settings.redis_url)  # Redis down: per process
    limiter.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    app.config["API_SPEC_OPTIONS"] = {
        "info": {"description": "Owner and public API of the consent management platform."},
        "components": {"securitySchemes": {"ApiKey": SECURITY_SCHEME}},
    }
    api.init_app(app, spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)})
    app.extensions["cmp.live"] = LiveSites(ttl=settings.site_cache_seconds)
    app.extensions["cmp.locator"] = Locator(settings.geo_headers, settings.geoip)
    app.extensions["cmp.keys"] = KeyRing(settings)
    if settings.checkpoint_seconds > 0:
        sequencer = Sequencer(app, settings.checkpoint_seconds)
        app.before_request(sequencer.ensure_running)


def register_blueprints(app: Flask) -> None:
    from .api import banner, decisions, owner
    from .extensions import api
    from .web import demo, pages, snippet

    api.register_blueprint(owner.blp)
    api.register_blueprint(banner.blp)
    api.register_blueprint(decisions.blp)
    api.register_blueprint(decisions.keys_blp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(snippet.bp)
    app.register_blueprint(demo.bp)


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
