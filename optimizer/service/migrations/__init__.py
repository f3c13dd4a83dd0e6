"""Alembic migrations of the job store, shipped in the package (run by ``store.migrate``)."""
