"""Alembic migrations of the event index (run programmatically by ledger.index_store)."""
