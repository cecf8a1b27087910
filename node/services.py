"""What the API's endpoints delegate to: one object built at start-up, handed to the app.

Every node has a chain: the ledger and the batcher are always there, and the use cases
(lifecycle, governance, audit reports) are built once, by the runtime, from the narrow
parts they need. Verifying a document with no node at all is :mod:`certificates`'
offline checks (``docex check``), a different object.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from adapters import ContentStore, DagStore
from node.access.member_requests import MemberRequestVerifier
from node.access.rate_limit import TokenBuckets
from node.access.users import UserStore
from node.audit.report import AuditReports
from node.chain.index_watch import IndexWatch
from node.chain.ledger_link import LedgerLink
from node.consortium.governance import Governance
from node.consortium.member_directory import MemberDirectory
from node.credentials import CredentialExport
from node.documents.content_access import ContentAccess
from node.documents.lifecycle import DocumentLifecycle
from node.documents.printing import CertificatePrinting
from node.issuing.batcher import Batcher
from node.issuing.grouped_acceptance import GroupedAcceptance
from node.issuing.outbox import Outbox
from node.observability.metrics import NodeMetrics
from node.receiving.inbox import Inbox
from node.settings import NodeSettings
from node.verification.by_reference import ReferenceVerification
from node.verification.verifier import Verifier


@dataclass(frozen=True, slots=True)
class NodeServices:
    settings: NodeSettings
    database: Engine
    users: UserStore
    outbox: Outbox
    #: how the API stores the documents it accepts: off the event loop, group commits
    acceptance: GroupedAcceptance
    store: ContentStore
    #: the store served at /ipfs/{cid} and filled by the receiver: the embedded store,
    #: or the member's Kubo (read offline: serving never fetches from the swarm)
    gateway_store: DagStore | None
    verifier: Verifier
    metrics: NodeMetrics
    verify_limiter: TokenBuckets
    ledger: LedgerLink
    batcher: Batcher
    #: documents received from other members (filled by node.receiving.receiver)
    inbox: Inbox
    #: the members' encryption public keys, for sealing confidential documents
    members: MemberDirectory
    lifecycle: DocumentLifecycle
    #: read-your-writes: what a request that changed the chain waits on (the index)
    index_watch: IndexWatch
    governance: Governance
    audit: AuditReports
    references: ReferenceVerification
    #: who may read stored content and manifests, and share links (ADR 0023)
    content_access: ContentAccess
    #: signed requests of other members' nodes (ADR 0023)
    member_requests: MemberRequestVerifier
    printing: CertificatePrinting
    #: the VC export: the member's DID document, credentials, status lists (ADR 0060)
    credentials: CredentialExport
