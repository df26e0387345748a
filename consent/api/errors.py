"""Errors every endpoint shares: JSON bodies that say what went wrong, never a stack trace.

flask-smorest already turns HTTP errors into JSON (see ``JsonErrorsApi``); this adds the failures that are not
HTTP errors: a conflict found by the database (two writers racing on the same key) and unexpected exceptions.
"""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy.exc import IntegrityError

from ..extensions import db


def register(app: Flask) -> None:
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
