"""Fixtures: a database built by the real migrations, the app, API keys and the five example sites.

Tests run on SQLite by default. Set ``CMP_TEST_DATABASE_URL`` to a PostgreSQL URL to run the same suite there
(CI does both); the tests then use a schema of their own, ``cmp_test``, which they drop and rebuild.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from consent import create_app
from consent.config import Settings
from consent.core.signing import SigningKey
from consent.extensions import db

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
EXAMPLE_KEYS = ("anytime-postage", "optipost", "quadient", "sodepac", "unifiedpost")
PG_SCHEMA = os.environ.get("CMP_TEST_PG_SCHEMA", "cmp_test")  # one per checkout sharing a server

DATABASE_URL = os.environ.get("CMP_TEST_DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith("postgresql")


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def reset_postgres_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()


def _test_signing_key() -> str:
    """One Ed25519 key for the whole run, in a file as an operator would configure it."""
    path = Path(tempfile.mkdtemp(prefix="cmp-test-key-")) / "signing-key.pem"
    path.write_bytes(SigningKey.generate("consent.test").pem())
    return str(path)


# In the environment, so that processes the tests spawn (several writers at once) sign with the same key.
if "CMP_TEST_SIGNING_KEY" not in os.environ:
    os.environ["CMP_TEST_SIGNING_KEY"] = _test_signing_key()
SIGNING_KEY = os.environ["CMP_TEST_SIGNING_KEY"]


def make_app(database_url: str, **settings):
    values = {
        "env": "testing",
        "database_url": database_url,
        "signing_key": SIGNING_KEY,
        "log_name": "consent.test",
        "checkpoint_seconds": 0,  # tests sequence and checkpoint explicitly
        "impression_flush_seconds": 0,  # impressions are written as they are counted
        **settings,
    }
    return create_app(Settings(**values))


def production_settings(database_url: str, **settings) -> Settings:
    values = {"secret_key": "s" * 40, "log_name": "consent.test", "checkpoint_seconds": 0, **settings}
    return Settings(env="production", database_url=database_url, signing_key=SIGNING_KEY, **values)


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> str:
    """A database at the latest migration: a template file on SQLite, the test schema on PostgreSQL."""
    if ON_POSTGRES:
        reset_postgres_schema(DATABASE_URL, PG_SCHEMA)
        url = with_search_path(DATABASE_URL, PG_SCHEMA)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    """A clean database for one test."""
    if ON_POSTGRES:
        engine = sa.create_engine(migrated_database)
        with engine.begin() as conn:
            conn.execute(sa.text("SET session_replication_role = replica"))  # the append-only triggers
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_database
    path = tmp_path / "test.db"
    shutil.copy(migrated_database.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url):
    """The app, with no application context held open: each request gets its own, as in production (tests that
    query the database directly open one with ``app.app_context()``)."""
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def load_examples(app, paths=EXAMPLES) -> None:
    result = app.test_cli_runner().invoke(args=["cmp", "load", *map(str, paths)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def examples(app):
    """The five example sites, loaded and published."""
    load_examples(app)
    return EXAMPLE_KEYS


class ApiClient:
    """The test client with an API key."""

    def __init__(self, client, secret: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {secret}"}

    def __getattr__(self, method):
        def call(path, **kwargs):
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(path, headers=headers, **kwargs)

        return call


def issue_key(app, role: str, site_key: str | None = None) -> str:
    args = ["cmp", "create-key", "--role", role] + (["--site", site_key] if site_key else [])
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def admin(app, client) -> ApiClient:
    return ApiClient(client, issue_key(app, "admin"))


@pytest.fixture
def owner_of(app, client):
    """``owner_of("quadient")``: an API client holding an owner key of that site."""
    return lambda site_key, role="owner": ApiClient(client, issue_key(app, role, site_key))


def republish(app, tmp_path, site_key: str, edit) -> None:
    """Export a site's configuration, change its text with ``edit`` and load it again, as an owner would."""
    exported = app.test_cli_runner().invoke(args=["cmp", "export", site_key])
    assert exported.exit_code == 0, exported.output
    path = tmp_path / f"{site_key}-edited.yaml"
    path.write_text(edit(exported.output), encoding="utf-8")
    load_examples(app, [path])


@pytest.fixture
def quadient(app):
    load_examples(app, [ROOT / "examples" / "quadient.yaml"])
    return "quadient"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are not collected on SQLite (deselected, not skipped)."""
    if ON_POSTGRES:
        return
    kept = [item for item in items if item.get_closest_marker("postgres_only") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres_only") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CMP_FORBID_SKIPS=1) a skipped test is a failure: nothing passes by not running."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CMP_FORBID_SKIPS") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, which CI forbids: {report.longrepr}"
