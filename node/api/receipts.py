"""``GET /v1/receipts/{id}``: what became of an issued document.

``pending`` until its batch root is mined, then ``anchored`` with the target hash, the
Merkle proof, the batch root, the transaction, the block, the CID and the wrapped
document itself; never anchored before the anchor is mined. ``anchor-lost`` (with
``error``) when the chain lost the block that held it (``node.workers.anchor_keeper``),
until it is mined again. An issuer reads only its own receipts; auditors and admins read
any.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from certificates.json_types import JsonObject
from node.api.deps import Services
from node.auth import ReceiptReader
from node.errors import NotAuthorised, ReceiptNotFound
from node.outbox import DocumentState, Receipt
from node.roles import Role

router = APIRouter(prefix="/v1", tags=["documents"])


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def receipt_json(receipt: Receipt) -> JsonObject:
    body: dict[str, Any] = {
        "id": receipt.id,
        "status": "pending" if receipt.state is DocumentState.BATCHED else receipt.state.value,
        "documentType": receipt.document_type,
        "acceptedAt": receipt.accepted_at,
    }
    if receipt.state is DocumentState.ANCHORED and receipt.wrapped_json is not None:
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
    return JSONResponse(receipt_json(receipt))
