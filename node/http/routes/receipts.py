"""``GET /v1/receipts/{id}``: what became of an issued document.

``pending`` until its batch root is mined and in the node's event index (so that it
verifies here as anchored the moment its receipt says so), then ``anchored`` with the
target hash, the Merkle proof, the batch root, the transaction, the block, the CID and
the wrapped document itself; never anchored before the anchor is mined. ``anchor-lost`` (with
``error``) when the chain lost the block that held it (``node.issuing.anchor_keeper``),
until it is mined again. An issuer reads only its own receipts; auditors and admins read
any.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from certificates.hashes import to_hex
from certificates.json_types import JsonObject
from node.access.roles import Role
from node.errors import NotAuthorised, ReceiptNotFound
from node.http.deps import ReceiptReader, Services
from node.issuing.outbox import DocumentState, Receipt

router = APIRouter(prefix="/v1", tags=["documents"])


def _hex(value: bytes | None) -> str | None:
    return None if value is None else to_hex(value)


def receipt_json(receipt: Receipt, *, indexed_block: int | None = None) -> JsonObject:
    """The receipt; ``indexed_block``: the block the node's event index has reached, and
    an anchor mined after it still reads ``pending`` (so that a document whose receipt
    says ``anchored`` verifies as anchored on this node at once)."""
    indexed = (
        indexed_block is None
        or receipt.block_number is None
        or receipt.block_number <= indexed_block
    )
    anchored = receipt.state is DocumentState.ANCHORED and indexed
    waiting = receipt.state is DocumentState.BATCHED or (
        receipt.state is DocumentState.ANCHORED and not indexed
    )
    body: dict[str, Any] = {
        "id": receipt.id,
        "status": "pending" if waiting else receipt.state.value,
        "documentType": receipt.document_type,
        "acceptedAt": receipt.accepted_at,
    }
    if anchored and receipt.wrapped_json is not None:
        wrapped = json.loads(receipt.wrapped_json)
        body.update(
            {
                "targetHash": _hex(receipt.target_hash),
                "merkleProof": wrapped["batch"]["proof"],
                "batchRoot": _hex(receipt.batch_root),
                "txHash": receipt.tx_hash,
                "blockNumber": receipt.block_number,
                "anchoredAt": receipt.anchored_at,
                "cid": receipt.cid,
                "document": wrapped,
            }
        )
    if receipt.state in (DocumentState.FAILED, DocumentState.ANCHOR_LOST):
        body["error"] = receipt.error
    return body


@router.get(
    "/receipts/{receipt_id}",
    summary="A document's receipt",
    responses={
        401: {"description": "No or revoked token."},
        403: {"description": "Another issuer's receipt, or a role that reads none."},
        404: {"description": "No such receipt."},
    },
)
def get_receipt(receipt_id: str, services: Services, principal: ReceiptReader) -> JSONResponse:
    receipt = services.outbox.receipt(receipt_id)
    if receipt is None:
        raise ReceiptNotFound(f"no receipt {receipt_id}")
    if principal.role is Role.ISSUER and receipt.user_id != principal.user_id:
        raise NotAuthorised("this receipt belongs to another issuer")
    chain = services.verifier.chain
    indexed_block = chain.indexed_block() if chain is not None else None
    return JSONResponse(receipt_json(receipt, indexed_block=indexed_block))
