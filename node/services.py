"""What the API's endpoints delegate to: one object built at start-up, handed to the app."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from adapters import ContentStore, EmbeddedContentStore
from node.access.rate_limit import TokenBuckets
from node.access.users import UserStore
from node.chain.ledger_link import LedgerLink
from node.consortium.member_directory import MemberDirectory
from node.issuing.batcher import Batcher
from node.issuing.outbox import Outbox
from node.observability.metrics import NodeMetrics
from node.receiving.inbox import Inbox
from node.settings import NodeSettings
from node.verification.verifier import Verifier


@dataclass
class NodeServices:
    settings: NodeSettings
    database: Engine
    users: UserStore
    outbox: Outbox
    store: ContentStore
    #: the store served at /ipfs/{cid} (the embedded store; a Kubo node serves its own)
    gateway_store: EmbeddedContentStore | None
    verifier: Verifier
    metrics: NodeMetrics
    verify_limiter: TokenBuckets
    ledger: LedgerLink | None
    batcher: Batcher | None
    #: documents received from other members (filled by node.receiving.receiver)
    inbox: Inbox
    #: the members' encryption public keys, for sealing confidential documents
    members: MemberDirectory
