"""dev: see docs/node.md."""
