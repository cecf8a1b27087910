"""Reading an OpenAttestation DocumentStore contract: ``isIssued(bytes32)``, ``isRevoked(bytes32)``.

The integrator binds :class:`DocumentStoreCalls` to the chain with one function that makes
an ``eth_call`` (``to``, calldata → return data); the minimal ABI of the two views is
``document_store_abi.json`` next to this module. Tests and other callers may give any
object with the two methods of :class:`DocumentStoreReader`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from typing import Final, Protocol

from certificates.json_types import JsonValue
from certificates.keccak import keccak256

IS_ISSUED: Final = keccak256(b"isIssued(bytes32)")[:4]
IS_REVOKED: Final = keccak256(b"isRevoked(bytes32)")[:4]

#: eth_call(contract address, calldata) -> return data; raises when the call fails.
EthCall = Callable[[str, bytes], bytes]


class DocumentStoreReader(Protocol):
    """What the issuance and revocation checks ask of an OA DocumentStore."""

    def is_issued(self, store: str, document_hash: bytes) -> bool:
        """``isIssued(hash)`` of the store at address ``store``."""
        ...

    def is_revoked(self, store: str, document_hash: bytes) -> bool:
        """``isRevoked(hash)`` of the store at address ``store``."""
        ...


class DocumentStoreCallError(RuntimeError):
    """A DocumentStore answered something that is not an ABI-encoded bool."""


class DocumentStoreCalls:
    """:class:`DocumentStoreReader` over a raw ``eth_call`` the integrator supplies."""

    def __init__(self, eth_call: EthCall) -> None:
        self._eth_call = eth_call

    def is_issued(self, store: str, document_hash: bytes) -> bool:
        return self._bool(store, IS_ISSUED, document_hash)

    def is_revoked(self, store: str, document_hash: bytes) -> bool:
        return self._bool(store, IS_REVOKED, document_hash)

    def _bool(self, store: str, selector: bytes, document_hash: bytes) -> bool:
        if len(document_hash) != 32:
            raise ValueError("a document hash is 32 bytes")
        answer = self._eth_call(store, selector + document_hash)
        if len(answer) != 32 or answer[:31] != bytes(31) or answer[31] > 1:
            raise DocumentStoreCallError(
                f"the contract at {store} did not answer a bool: is it a DocumentStore?"
            )
        return answer[31] == 1


def document_store_abi() -> list[JsonValue]:
    """The minimal ABI (``isIssued``, ``isRevoked``) to bind a contract object with."""
    text = resources.files(__package__).joinpath("document_store_abi.json").read_text("utf-8")
    abi: list[JsonValue] = json.loads(text)
    return abi
