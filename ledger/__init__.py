"""docex ledger: chain backends, contract bindings, the transaction manager, the event index.

The public surface other layers use; everything else in this package is private.
"""

from ledger.chains import Chain, EthTesterChain, JsonRpcChain, ManagedAnvil
from ledger.contracts import (
    Artifact,
    ContractBinding,
    anchor_request,
    country_code,
    load_artifacts,
    type_id,
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
    "anchor_request",
    "country_code",
    "deploy_consortium",
    "load_artifacts",
    "load_config",
    "open_index",
    "signer_from_keystore",
    "type_id",
]
