"""local: see docs/node.md."""
