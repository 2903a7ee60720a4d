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


def test_0008_keeps_the_alerts_and_outbox_rows_the_code_before_it_wrote(db_url):
    """A database at 0006 with an alert and a queued notification, as main's code wrote
    them, upgraded: both are read back unchanged, with the new columns' neutral values."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0006")  # noqa: SLF001
        conn.exec_driver_sql(
            "INSERT INTO alerts (account_id, instance_id, check_id, subject, live_key, status,"
            " severity, category, title, message, details, event_like, count, first_seen_ms,"
            " last_seen_ms, updated_at_ms, notified, history) VALUES ('1', 'i-1',"
            " 'exposure.port', 'tcp/6379', 'k1', 'pending', 'serious', 'exposure', 'Redis',"
            " 'open', '{\"port\":6379}', false, 200, 1000, 2000, 2000, true, '[]')"
        )
        conn.exec_driver_sql(
            "INSERT INTO notify_outbox (account_id, alert_id, channel_id, payload, state,"
            " attempts, next_attempt_at_ms, created_at_ms) VALUES"
            " ('1', '1', 'inbox', '{}', 'held', 0, 3000, 2000)"
        )
    engine.dispose()
    store = Database(db_url)
    try:
        assert migrate.current(store.engine) == migrate.head()
        from palisade.auditor.alerts.repository import AlertRepository

        alert = AlertRepository(store).get(1)
        assert alert is not None
        assert (alert.status, alert.count, alert.details, alert.live) == (
            "pending",
            200,
            {"port": 6379},
            True,
        )
        assert alert.accepted_until_ms is None
        with store.engine.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT state, group_key, drop_reason FROM notify_outbox"
            ).one()
        assert tuple(row) == ("held", "", None)
    finally:
        store.close()


def test_0011_turns_a_stored_state_document_into_rows_and_back(db_url):
    """A database at 0010 holding a state document the whole-document store wrote (every
    section filled: tests/data/state/make_cloud_state_v1.py), upgraded: the state read from
    the rows is the state the document held, unit for unit and in order; the downgrade puts
    the same document back."""
    import json
    from pathlib import Path

    from palisade.auditor.model.cloud_state import CloudState
    from palisade.auditor.model.units import units_from_document
    from palisade.auditor.store.cloud_state_repository import CloudStateRepository
    from palisade.auditor.store.live_state import LiveState

    text = (Path(__file__).parents[3] / "data/state/cloud_state_v1.json").read_text()
    document = json.loads(text)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0010")  # noqa: SLF001
        conn.exec_driver_sql(
            "INSERT INTO cloud_state (id, version, document, updated_at_ms)"
            " VALUES (1, 26, %s, 0)" % ("?" if conn.dialect.name == "sqlite" else "%s"),
            (json.dumps(document),),
        )
    engine.dispose()
    store = Database(db_url)
    try:
        assert "cloud_state" not in inspect(store.engine).get_table_names()
        live = LiveState(store)
        state = live.current()
        expected = CloudState.from_document(document)
        assert list(units_from_document(state.to_document()).items()) == list(
            units_from_document(expected.to_document()).items()
        )
        assert state.to_document() == expected.to_document()
        # the rows are the resources: one per rule, NIC and membership
        with store.engine.connect() as conn:
            rules = conn.exec_driver_sql("SELECT count(*) FROM cloud_security_group_rules")
            assert rules.scalar() == sum(len(g["rules"]) for g in document["cloud"]["groups"])
            members = conn.exec_driver_sql("SELECT count(*) FROM cloud_nic_memberships")
            assert members.scalar() == sum(
                len(n["security_group_ids"])
                for i in document["cloud"]["instances"]
                for n in i["nics"]
            )
        version, stored = CloudStateRepository(store).load()
        assert stored == expected.to_document()
        with store.engine.begin() as conn:
            command.downgrade(migrate._config(conn), "0010")  # noqa: SLF001
            row = conn.exec_driver_sql("SELECT version, document FROM cloud_state").one()
        assert row.version == version and json.loads(row.document) == expected.to_document()
    finally:
        store.close()
