"""Errors of the consortium network's engines (geth, Kubo) and their launchers."""

from __future__ import annotations

from certificates.errors import DocexError


class NetworkError(DocexError):
    """Root of the failures of `docex network` and its engine processes."""

    code = "network-error"
    http_status = 503


class EngineNotBuilt(NetworkError):
    """A pinned engine binary (geth, ipfs) is missing: `make engines` builds it."""

    code = "engine-not-built"


class EngineStartFailed(NetworkError):
    """An engine process exited at start or did not answer in time."""

    code = "engine-start-failed"


class ClosedNetworkViolation(NetworkError):
    """A process configuration that could reach beyond the consortium's addresses."""

    code = "closed-network-violation"
