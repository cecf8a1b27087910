"""The node's own errors: transport-free (the HTTP edge maps their kinds to status codes
in :mod:`node.http.problems`). See :mod:`certificates.errors` for the kinds."""

from __future__ import annotations

from certificates.errors import (
    Conflict,
    DocexError,
    Invalid,
    InvalidInput,
    NotFound,
    Refused,
    SchemaViolation,
    Unavailable,
)


class NodeError(DocexError):
    """An error the node service raises itself."""

    code = "node-error"


class InvalidSettings(NodeError):
    code = "invalid-settings"


class NotAuthenticated(Refused, NodeError):
    """No bearer token, an unknown one, or a revoked one."""

    code = "not-authenticated"


class NotAuthorised(Refused, NodeError):
    """A known user whose role or document types do not allow this."""

    code = "not-authorised"


class RateLimited(Refused, NodeError):
    code = "rate-limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaType(Invalid, NodeError):
    code = "unsupported-media-type"


class InvalidRequestParameters(Invalid, NodeError):
    """Query or path parameters that are each well formed but do not go together: the
    same problem code as a parameter FastAPI's validation refuses."""

    code = "invalid-request"


class IdempotencyKeyReused(Invalid, NodeError):
    """The same Idempotency-Key sent again with another body."""

    code = "idempotency-key-reused"


class IdempotencyKeyInFlight(Conflict, NodeError):
    """The first request with this Idempotency-Key has not finished yet."""

    code = "idempotency-key-in-flight"


class InvalidIdempotencyKey(InvalidInput, NodeError):
    code = "invalid-idempotency-key"


class ReceiptNotFound(NotFound, NodeError):
    code = "receipt-not-found"


class BatchNotFound(NotFound, NodeError):
    code = "batch-not-found"


class InboxDocumentNotFound(NotFound, NodeError):
    code = "inbox-document-not-found"


class UserExists(Conflict, NodeError):
    code = "user-exists"


class UnknownUser(NotFound, NodeError):
    code = "unknown-user"


class InvalidRole(InvalidInput, NodeError):
    code = "invalid-role"


class NotReady(Unavailable, NodeError):
    """A component the request needs is not available (no chain, index behind)."""

    code = "not-ready"


class StorageFull(Unavailable, NodeError):
    """The data dir's file system is full (ENOSPC, SQLITE_FULL): nothing was stored, the
    databases are intact (SQLite rolled the transaction back); retry once space is freed."""

    code = "storage-full"


# --- document lifecycle and consortium governance
# (node/documents/lifecycle.py, node/consortium/governance.py) ---


class InvalidRequestBody(SchemaViolation):
    """A JSON body that does not match the endpoint's model; ``errors`` lists each field
    (a :class:`SchemaViolation`, so the problem carries them as ``errors``)."""

    code = "invalid-request-body"


class DocumentNotFound(NotFound, NodeError):
    code = "document-not-found"


class DocumentNotAnchored(Conflict, NodeError):
    """The document's batch is not (yet) anchored, or not yet in this node's index."""

    code = "document-not-anchored"


class DocumentNumberTaken(Conflict, NodeError):
    """A document number this node already issued for the same document type."""

    code = "document-number-taken"

    def __init__(self, message: str, *, first_receipt: str) -> None:
        super().__init__(message)
        self.first_receipt = first_receipt


class DocumentNotCurrent(Conflict, NodeError):
    """Revoked, superseded, or already being amended: the request would change nothing."""

    code = "document-not-current"


class GovernanceUnavailable(Unavailable, NodeError):
    """This node holds no member (governance) key, so it cannot propose or approve."""

    code = "governance-unavailable"


# --- access to stored content (ADR 0023: node/access/member_requests.py, share_links.py) ---


class MemberRequestRefused(Refused, NodeError):
    """A signed member request that does not authenticate (the problem says which part)."""

    code = "member-request-refused"


class MemberSignatureInvalid(MemberRequestRefused, NotAuthenticated):
    """A member signature header missing or malformed, or not by the account it names."""

    code = "member-signature-invalid"


class MemberSignatureStale(MemberRequestRefused, NotAuthenticated):
    """A member request signed outside the freshness window of this node's clock."""

    code = "member-signature-stale"


class MemberRequestReplayed(MemberRequestRefused, NotAuthenticated):
    """A member request whose signer and nonce this node has already seen."""

    code = "member-request-replayed"


class NotAMember(MemberRequestRefused):
    """Signed by an account that is not a current member account of an active member."""

    code = "not-a-member"


class NotEntitled(Refused, NodeError):
    """A member (or user) that is neither the issuer nor an addressee of the document."""

    code = "not-entitled"


class ShareLinkInvalid(Refused, NodeError):
    """A share token this node never issued (or not a share token at all)."""

    code = "share-link-invalid"


class ShareLinkRevoked(Refused, NodeError):
    code = "share-link-revoked"


class ShareLinkExpired(Refused, NodeError):
    code = "share-link-expired"


class ShareLinkNotFound(NotFound, NodeError):
    """No share link with this id (listing and revocation by id)."""

    code = "share-link-not-found"


# --- backups and restores (node/backups/) ---


class BackupError(NodeError):
    """A backup that cannot be taken, or one that cannot be restored."""

    code = "backup-error"


class NoNodeData(NotFound, BackupError):
    """The data directory holds no node (no ``node.sqlite``): nothing to back up."""

    code = "no-node-data"


class BackupTargetNotEmpty(Conflict, BackupError):
    """A backup's destination, or a restore's data directory, already holds files."""

    code = "target-not-empty"


class BackupUnreadable(InvalidInput, BackupError):
    """No backup at that place: its manifest is missing or is not a docex backup manifest."""

    code = "backup-unreadable"


class BackupTampered(Invalid, BackupError):
    """A backup's file differs from its manifest (changed, missing, added or misnamed)."""

    code = "backup-tampered"


class BackupNotSettled(Unavailable, BackupError):
    """The running node did not finish anchoring the documents accepted before the
    backup began within the time allowed: the backup was not taken."""

    code = "backup-not-settled"


class DeploymentNotOnChain(InvalidSettings):
    """The chain the node is pointed at does not hold the deployment in its chain.json
    (another chain id, or no contracts at those addresses): the node refuses to start."""

    code = "deployment-not-on-chain"
