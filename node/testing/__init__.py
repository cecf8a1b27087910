"""testing: see docs/node.md."""
