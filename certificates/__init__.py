"""docex package."""
