"""http: see docs/node.md."""
