"""access: see docs/node.md."""
