"""db: the node database, its tables (:mod:`node.db.tables`) and their migrations.

See docs/node.md (Node database).
"""

from node.db.schema import open_database, upgrade

__all__ = ["open_database", "upgrade"]
