"""The migrations build exactly the schema the code declares, on both backends."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from palisade.auditor.store import migrate
from palisade.auditor.store.database import Database
from palisade.auditor.store.schema import metadata


def test_upgrading_an_empty_database_gives_the_declared_schema(db_url):
    store = Database(db_url)
    try:
        assert migrate.current(store.engine) == migrate.head()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"schema.py and the migrations disagree: {diff}"
    finally:
        store.close()


def test_upgrading_twice_changes_nothing(db_url):
    Database(db_url).close()
    store = Database(db_url)
    assert migrate.current(store.engine) == migrate.head()
    store.close()


def test_a_database_made_before_migrations_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:  # the first schema, as create_all made it, without a version
        command.upgrade(migrate._config(conn), migrate.FIRST_REVISION)  # noqa: SLF001
        conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()
    store = Database(url)
    assert migrate.current(store.engine) == migrate.head()
    assert "instances" in inspect(store.engine).get_table_names()
    store.close()
