"""Errors of the ledger layer: the chain, its transactions and its index.

Each error has a stable ``code`` (the API's problem type suffix, the CLI's message
prefix) and the HTTP status the node maps it to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from certificates.errors import (
    Conflict,
    DocexError,
    Invalid,
    NotFound,
    Refused,
    Unavailable,
    UpstreamFailed,
)


class LedgerError(DocexError):
    """Root of every error the ledger layer raises on purpose."""

    code = "ledger-error"


class RpcUnreachable(Unavailable, LedgerError):
    """The JSON-RPC endpoint did not answer, after every retry."""

    code = "rpc-unreachable"

    def __init__(self, url: str, attempts: int, cause: str) -> None:
        self.url = url
        self.attempts = attempts
        super().__init__(f"JSON-RPC endpoint {url} unreachable after {attempts} attempts: {cause}")


class RpcError(UpstreamFailed, LedgerError):
    """The endpoint answered with a JSON-RPC error object."""

    code = "rpc-error"

    def __init__(self, method: str, rpc_code: int, rpc_message: str, data: Any = None) -> None:
        self.method = method
        self.rpc_code = rpc_code
        self.rpc_message = rpc_message
        self.data = data
        super().__init__(f"{method} failed: {rpc_message} (JSON-RPC error {rpc_code})")


class ChainProcessError(LedgerError):
    """A managed chain process that could not be started or stopped."""

    code = "chain-process-error"


class ContractReverted(Conflict, LedgerError):
    """A contract call or transaction reverted; ``rule`` names the rule it broke.

    Subclasses give the reverts a caller may want to tell apart their own ``code``.
    """

    code = "contract-reverted"
    #: what was being done (the transaction's journal key), for logs; not in the message
    action: str = ""

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        arguments: Mapping[str, Any] | None = None,
        block_number: int | None = None,
        revert_data: bytes = b"",
    ) -> None:
        self.rule = rule
        self.arguments = dict(arguments or {})
        self.block_number = block_number
        self.revert_data = revert_data
        super().__init__(message)


class NotAuthorisedOnChain(Refused, ContractReverted):
    """The chain refused an account the right to do what it asked."""

    code = "not-authorised-on-chain"


class AlreadyRecorded(ContractReverted):
    """The chain already holds what was sent (a duplicate anchor, a second revocation)."""

    code = "already-recorded"


class NotFoundOnChain(NotFound, ContractReverted):
    """The transaction refers to something the chain does not hold."""

    code = "not-found-on-chain"


class ChainRewound(Unavailable, LedgerError):
    """The chain no longer holds state it reported a moment ago (it lost blocks: restarted
    on older state). Transient: retry once the lost transactions are replayed."""

    code = "chain-rewound"


class TransactionRejected(UpstreamFailed, LedgerError):
    """The node refused a signed transaction outright (funds, fee, nonce)."""

    code = "transaction-rejected"


class TransactionConflict(LedgerError):
    """A journalled nonce was consumed on chain by a transaction the journal does not know."""

    code = "transaction-conflict"


class TransactionNotConfirmed(LedgerError):
    """A transaction's receipt did not reach the required confirmations in the time allowed."""

    code = "transaction-not-confirmed"


class UnknownTransaction(NotFound, LedgerError):
    """No transaction with this key in the journal."""

    code = "unknown-transaction"


class DeploymentError(Invalid, LedgerError):
    """A consortium configuration that cannot be deployed, or a deployment that failed."""

    code = "deployment-error"


class ArtifactError(LedgerError):
    """A contract build artifact that is missing or malformed."""

    code = "artifact-error"
