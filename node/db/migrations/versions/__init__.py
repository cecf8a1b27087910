"""Revisions of the node schema, one a file, applied in order by node.db.schema.upgrade."""
