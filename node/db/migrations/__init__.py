"""Alembic migrations of the node database (node.sqlite): see node.db.schema."""
