"""Revisions of the event index schema, oldest first."""
