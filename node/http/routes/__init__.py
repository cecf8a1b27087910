"""The HTTP API, v1: one router per resource, thin, delegating to the node's services."""
