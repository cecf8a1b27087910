"""documents: see docs/node.md."""
