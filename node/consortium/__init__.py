"""consortium: see docs/node.md."""
