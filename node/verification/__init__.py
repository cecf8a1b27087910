"""verification: see docs/node.md."""
