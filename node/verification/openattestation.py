"""Verifying an OpenAttestation v2 (TradeTrust) document presented to this node.

Integrity, target hash and Merkle proof are checked offline exactly as OA's own verifier
checks them (:mod:`adapters.formats.openattestation`); issuance and revocation are read
from the OA DocumentStore on this node's chain by plain ``eth_call``; the issuer's
identity comes from the node's own list of trusted document stores
(``DOCEX_OA_TRUSTED_STORES``). DNS-TXT identity cannot be checked on a closed network:
the verdict says so (skipped), it never passes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.formats import DocumentFormat
from adapters.formats.openattestation import (
    DocumentStoreCalls,
    OaVerification,
    TrustedDocumentStore,
    verify_openattestation,
)
from certificates.hashes import to_hex
from certificates.json_types import JsonValue
from ledger import Chain

#: the format name a verdict on an OA document carries (``format``)
OPENATTESTATION_V2 = DocumentFormat.OPENATTESTATION_V2.value


def chain_eth_call(chain: Chain) -> DocumentStoreCalls:
    """An OA DocumentStore reader over ``chain``'s JSON-RPC ``eth_call``."""

    def eth_call(to: str, data: bytes) -> bytes:
        answer = chain.request("eth_call", [{"to": to, "data": to_hex(data)}, "latest"])
        return bytes.fromhex(str(answer).removeprefix("0x"))

    return DocumentStoreCalls(eth_call)


def verify_openattestation_document(
    value: JsonValue, chain: Chain | None, trusted_stores: Mapping[str, str]
) -> OaVerification:
    """The verdict on an OA v2 document; ``chain`` None: issuance and revocation skipped."""
    return verify_openattestation(
        value,
        trusted_stores=[
            TrustedDocumentStore(address=address, name=name)
            for address, name in trusted_stores.items()
        ],
        document_store=chain_eth_call(chain) if chain is not None else None,
    )
