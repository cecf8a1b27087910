"""client: see docs/node.md."""
