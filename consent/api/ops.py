"""Endpoints for the operator's machinery, not for visitors or owners: liveness, readiness and Prometheus
metrics. Kept out of the OpenAPI document."""

from __future__ import annotations

import hmac
from functools import cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from .. import metrics
from ..extensions import db
from ..models import PendingRecord, Record, utcnow

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def alive():
    """The process answers (a load balancer restarts it when it does not)."""
    return jsonify(status="alive")


@bp.get("/readyz")
def ready():
    """The process can serve: its database answers and is at the migrations this code expects."""
    expected = set(migration_heads(current_app.extensions["migrate"].directory))
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as error:
        current_app.extensions["cmp.database"].failed()
        current_app.logger.warning("not ready: database unreachable: %s", getattr(error, "orig", error))
        return jsonify(status="unavailable", database="unreachable"), 503
    if current != expected:
        migrations = {"current": sorted(current), "expected": sorted(expected)}
        return jsonify(status="unavailable", database="reachable", migrations=migrations), 503
    return jsonify(status="ready", migrations=sorted(current))


@cache
def migration_heads(directory: str) -> tuple[str, ...]:
    config = Config()
    config.set_main_option("script_location", str(Path(directory)))
    return tuple(ScriptDirectory.from_config(config).get_heads())


def _log_lag() -> tuple[int, float]:
    pending, oldest = db.session.execute(
        select(func.count(), func.min(Record.time))
        .select_from(PendingRecord)
        .join(Record, Record.id == PendingRecord.record_pk)
    ).one()
    return pending, (utcnow() - oldest).total_seconds() if oldest else 0.0


LOG_LAG = metrics.LogLag(_log_lag)


@bp.get("/metrics")
def scrape():
    token = current_app.config["CMP_SETTINGS"].metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return jsonify(code=401, status="Unauthorized", message="A bearer token is needed."), 401
    body, content_type = metrics.exposition(LOG_LAG)
    return Response(body, content_type=content_type)
