"""chain: see docs/node.md."""
