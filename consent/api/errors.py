"""Errors every endpoint shares: JSON bodies that say what went wrong, never a stack trace.

flask-smorest already turns HTTP errors into JSON (see ``JsonErrorsApi``); this adds the failures that are not
HTTP errors: an unreachable database (503 with Retry-After: the client sends again later), a conflict found by the
database (two writers racing on the same key) and unexpected exceptions.
"""

from __future__ import annotations

import contextlib

from flask import Flask, jsonify
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .. import metrics
from ..availability import RETRY_AFTER_SECONDS
from ..extensions import db


def database_unavailable_answer():
    body = {
        "code": 503,
        "status": "Service Unavailable",
        "message": "The database cannot be reached; nothing was stored. Send the request again later.",
    }
    return jsonify(body), 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def register(app: Flask) -> None:
    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(error: SQLAlchemyError):
        with contextlib.suppress(SQLAlchemyError):  # the connection is gone; the session goes with the request
            db.session.rollback()
        app.extensions["cmp.database"].failed()
        metrics.DATABASE_DOWN.inc()
        app.logger.warning("database unavailable: %s", getattr(error, "orig", error))
        return database_unavailable_answer()

    @app.errorhandler(IntegrityError)
    def conflict(error: IntegrityError):
        db.session.rollback()
        app.logger.info("integrity error: %s", error.orig)
        body = {"code": 409, "status": "Conflict", "message": "The change conflicts with another; retry it."}
        return jsonify(body), 409

    @app.errorhandler(Exception)
    def unexpected(error: Exception):  # HTTP errors have their own, more specific handler
        db.session.rollback()
        app.logger.exception("unhandled error")
        body = {"code": 500, "status": "Internal Server Error", "message": "Something went wrong on our side."}
        return jsonify(body), 500
