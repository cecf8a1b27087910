"""db: see docs/node.md."""
