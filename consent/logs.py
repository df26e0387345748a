"""Logs: one JSON object per line in production, with the request ID that the response carries too, so that a
visitor's or an owner's report can be found; readable lines on a developer's machine."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from .config import Settings
from .middleware import REQUEST_ID

HANDLER_NAME = "consent"


class WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def configure(settings: Settings) -> None:
    """The ``consent`` loggers (Flask's app logger among them) write to stderr; gunicorn keeps its own."""
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    handler.addFilter(WithRequestId())
    if settings.json_logs:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                datefmt="%Y-%m-%dT%H:%M:%S%z",
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    logger = logging.getLogger("consent")
    for old in [h for h in logger.handlers if h.get_name() == HANDLER_NAME]:  # an app made again in one process
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(settings.log_level)
