"""The gridsite service: an HTTP job API over a durable job store.

Layers, outside in: ``app`` (FastAPI routes: validate, delegate), ``jobs`` (the job
lifecycle: claim with a lease, run on Dask, heartbeat, record, retry, cancel), ``store``
(SQLAlchemy; the only module that knows SQL, over the tables in ``models``). ``worker`` is
what a Dask worker runs: the same library calls as the CLI.
"""
