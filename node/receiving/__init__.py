"""receiving: see docs/node.md."""
