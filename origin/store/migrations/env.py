"""Alembic's environment for the metadata store: migrations run on the connection that
:func:`origin.store.migrations.migrate` opened (inside its transaction and lock)."""

from alembic import context

from origin.store.schema import metadata

context.configure(connection=context.config.attributes["connection"], target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
