"""docex ledger: chain backends, contract bindings, the transaction manager, the event index.

The public surface other layers use; everything else in this package is private.
"""

from ledger.chains import Chain, EthTesterChain, JsonRpcChain, ManagedAnvil
from ledger.contracts import (
    AnchorRecord,
    Artifact,
    ContractBinding,
    anchor_record,
    anchor_request,
    country_code,
    issued_as,
    load_artifacts,
    rejection_request,
    type_id,
    use_request,
)
from ledger.deploy import ConsortiumConfig, Deployment, deploy_consortium, load_config
from ledger.errors import (
    AlreadyRecorded,
    ChainRewound,
    ContractReverted,
    LedgerError,
    NotAuthorisedOnChain,
    NotFoundOnChain,
    RpcError,
    RpcUnreachable,
    TransactionConflict,
    TransactionNotConfirmed,
    TransactionRejected,
)
from ledger.index_store import open_index
from ledger.indexer import EventIndexer, SyncReport, WatchedContract
from ledger.journal import Journal, TxStatus
from ledger.keystores import signer_from_keystore
from ledger.transactions import (
    ConfirmedTransaction,
    ReplayReport,
    TransactionManager,
    TxRequest,
)

__all__ = [
    "AlreadyRecorded",
    "AnchorRecord",
    "Artifact",
    "Chain",
    "ChainRewound",
    "ConfirmedTransaction",
    "ConsortiumConfig",
    "ContractBinding",
    "ContractReverted",
    "Deployment",
    "EthTesterChain",
    "EventIndexer",
    "Journal",
    "JsonRpcChain",
    "LedgerError",
    "ManagedAnvil",
    "NotAuthorisedOnChain",
    "NotFoundOnChain",
    "ReplayReport",
    "RpcError",
    "RpcUnreachable",
    "SyncReport",
    "TransactionConflict",
    "TransactionManager",
    "TransactionNotConfirmed",
    "TransactionRejected",
    "TxRequest",
    "TxStatus",
    "WatchedContract",
    "anchor_record",
    "anchor_request",
    "country_code",
    "deploy_consortium",
    "issued_as",
    "load_artifacts",
    "load_config",
    "open_index",
    "rejection_request",
    "signer_from_keystore",
    "type_id",
    "use_request",
]
