"""Alembic environment: run by palisade.auditor.store.migrate on the store's connection."""

from alembic import context

from palisade.auditor.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
