"""Unbound Flask extensions, created once here and bound to the app in :func:`consent.create_app`."""

import sqlite3

from flask.sessions import SessionInterface
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that migrations can refer to them on every database (SQLite included).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class JsonErrorsApi(Api):
    """flask-smorest's JSON errors, keeping the headers an error carries (``Allow`` on 405, ``Retry-After``)
    and always saying in words what went wrong."""

    def handle_http_exception(self, error):
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", error.description)
        kept = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        return payload, code, {**kept, **(headers or {})}


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = JsonErrorsApi()


class NoSessions(SessionInterface):
    """The service keeps no session: API keys authenticate owners, and a visitor's secret proves their consent ID.
    Flask would otherwise build a signed-cookie session for every request, the banner's included."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        pass


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked, per connection; WAL lets readers and a writer overlap."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()
