"""Soak scenarios: each ``run(context)`` returns its result(s)."""
