"""observability: see docs/node.md."""
