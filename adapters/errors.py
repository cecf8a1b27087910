"""Errors the adapters raise: content stores, CAR files, peer gateways, Kubo.

Each carries a stable ``code`` and derives from a kind of :mod:`certificates.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from certificates.errors import (
    DocexError,
    InvalidInput,
    NotFound,
    TooLarge,
    Unavailable,
    UpstreamFailed,
)


class ContentError(DocexError):
    """A content store could not do what was asked."""

    code = "content-error"


class InvalidCid(InvalidInput):
    """Text or bytes that are not a CID docex understands (sha2-256, dag-pb or raw)."""

    code = "invalid-cid"


class InvalidBlock(InvalidInput):
    """A block whose bytes are not valid for its codec (dag-pb or UnixFS)."""

    code = "invalid-block"


class BlockMismatch(InvalidBlock):
    """A block whose bytes do not hash to the CID it came with."""

    code = "block-mismatch"


class InvalidCar(InvalidInput):
    """A CAR stream that is malformed: bad header, truncated section, bad CID."""

    code = "invalid-car"


class ContentTooLarge(TooLarge, InvalidInput):
    """Content, a block or a response body over its size limit."""

    code = "content-too-large"


class ContentNotFound(NotFound, ContentError):
    """A CID (or a block below it) that the store does not hold."""

    code = "content-not-found"


class ContentStoreUnavailable(Unavailable, ContentError):
    """The store cannot be used now (its directory gone, its daemon unreachable)."""

    code = "content-store-unavailable"


class BlockCorrupted(ContentError):
    """A stored block whose bytes no longer hash to its CID (disk corruption, tampering)."""

    code = "block-corrupted"


class ContentVerificationFailed(UpstreamFailed, ContentError):
    """Bytes a backend returned that do not match the CID they were asked for."""

    code = "content-verification-failed"


class KuboError(UpstreamFailed, ContentError):
    """The Kubo (or IPFS Cluster proxy) RPC API failed or answered something unexpected."""

    code = "kubo-error"


@dataclass(frozen=True, slots=True)
class PeerRejection:
    """Why one peer gateway's answer was thrown away."""

    peer: str
    #: stable reason code: corrupted-block, unexpected-block, too-large, timeout,
    #: http-status, malformed-response, incomplete-dag, unreachable
    reason: str
    detail: str


class PeerFetchFailed(UpstreamFailed, ContentError):
    """No peer gateway delivered the content verified; nothing was stored."""

    code = "peer-fetch-failed"

    def __init__(self, message: str, *, rejections: tuple[PeerRejection, ...]) -> None:
        super().__init__(message)
        self.rejections = rejections
