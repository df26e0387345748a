"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL, and keep published versions
append-only in the database itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from consent import partitions
from consent.extensions import db

from .conftest import DATABASE_URL, ON_POSTGRES, load_examples, make_app, reset_postgres_schema, with_search_path


@pytest.fixture
def empty_database(tmp_path) -> str:
    if ON_POSTGRES:
        reset_postgres_schema(DATABASE_URL, "cmp_migration_test")
        return with_search_path(DATABASE_URL, "cmp_migration_test")
    return f"sqlite:///{tmp_path / 'empty.db'}"


def test_migrating_an_empty_database_gives_exactly_the_models_schema(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": partitions.not_a_partition}
            )
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()


def test_downgrading_removes_everything_and_upgrading_again_works(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
        db.engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE published_versions SET document = '{}'",
        "DELETE FROM published_versions",
        "UPDATE publications SET note = 'rewritten'",
        "DELETE FROM publications",
    ],
)
def test_the_database_refuses_to_change_published_versions(app, statement):
    load_examples(app, [app.root_path + "/../examples/quadient.yaml"])
    with app.app_context():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.engine.begin() as connection:
            connection.execute(sa.text(statement))
        assert db.session.scalar(sa.text("SELECT count(*) FROM published_versions")) == 1


@pytest.mark.postgres_only
def test_postgres_refuses_to_truncate_published_versions(app):
    with (
        app.app_context(),
        pytest.raises(sa.exc.DatabaseError, match="append-only"),
        db.engine.begin() as connection,
    ):
        connection.execute(sa.text("TRUNCATE published_versions CASCADE"))
