"""issuing: see docs/node.md."""
