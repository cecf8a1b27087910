"""``/v1/consortium/proposals`` (list, propose, approve) and ``/v1/consortium/agreements``;
the work is in :mod:`node.consortium.governance`."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from node.consortium.commands import PROPOSAL
from node.errors import InvalidIdempotencyKey
from node.http.bodies import read_json
from node.http.deps import Admin, AgreementReader, GovernanceDep, ProposalReader, Services
from node.http.models import parse_body, request_body

router = APIRouter(prefix="/v1/consortium", tags=["consortium"])

_MAX_KEY_LENGTH: Final = 255


_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}


def _responses(ok: int, ok_description: str, problems: dict[int, str]) -> dict[int | str, Any]:
    responses: dict[int | str, Any] = {ok: {"description": ok_description}}
    for status, description in problems.items():
        responses[status] = {"description": description, "content": _PROBLEM}
    return responses


_CHAIN_PROBLEMS: Final = {
    502: "The chain answered with an error.",
    503: "No chain, no member key, or the chain is unreachable.",
    504: "The transaction was not mined in time.",
}


@router.get(
    "/proposals",
    summary="Consortium proposals, newest first (admins, auditors)",
    responses=_responses(
        200,
        "Proposals with their approvals and the quorum.",
        {
            401: "No or revoked token.",
            403: "A role that reads no proposals.",
            422: "Invalid paging parameters.",
            **_CHAIN_PROBLEMS,
        },
    ),
)
def list_proposals(
    governance: GovernanceDep,
    _principal: ProposalReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> JSONResponse:
    return JSONResponse(governance.proposals(limit, offset))


@router.post(
    "/proposals",
    status_code=201,
    summary="Propose a consortium action (admins)",
    description=(
        "Sent by this member's governance account: admit, suspend or readmit a member, "
        "add, rotate or revoke a key, set a member's encryption key, add or withdraw a "
        "recognition agreement, add or remove an auditor key. Proposing counts as this "
        "member's approval; it executes once a quorum of members approved (and, for a "
        "member's own keys or its country's agreements, that member). An `Idempotency-Key` "
        "makes a retry return the first proposal."
    ),
    openapi_extra={"requestBody": request_body(PROPOSAL)},
    responses=_responses(
        201,
        "Proposed: the proposal, its transaction and block.",
        {
            400: "Not strict JSON, or an invalid Idempotency-Key.",
            401: "No or revoked token.",
            403: "Not an admin, or the member may not propose (the contract's reason).",
            404: "The proposal names an unknown member (the contract's reason).",
            409: "The contract refused the proposal (its reason).",
            413: "Body too large.",
            415: "Not application/json.",
            422: "The body does not match the schema.",
            **_CHAIN_PROBLEMS,
        },
    ),
)
async def propose(
    request: Request,
    services: Services,
    governance: GovernanceDep,
    _principal: Admin,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", description="Makes a retry safe (the first proposal)."),
    ] = None,
) -> JSONResponse:
    if idempotency_key is not None and (
        not 1 <= len(idempotency_key) <= _MAX_KEY_LENGTH or not idempotency_key.isprintable()
    ):
        raise InvalidIdempotencyKey(
            f"an Idempotency-Key is 1 to {_MAX_KEY_LENGTH} printable characters"
        )
    action = parse_body(PROPOSAL, await read_json(request, services.settings.max_body_bytes))
    result = await run_in_threadpool(governance.propose, action, idempotency_key)
    return JSONResponse(result, status_code=201)


@router.post(
    "/proposals/{proposal_id}/approve",
    summary="Approve a proposal as this member (admins)",
    responses=_responses(
        200,
        "Approved: the proposal (executed once the quorum is reached).",
        {
            401: "No or revoked token.",
            403: "Not an admin, or the member may not vote (the contract's reason).",
            404: "No such proposal.",
            409: "Already executed, or already approved by this member.",
            422: "Not a proposal number.",
            **_CHAIN_PROBLEMS,
        },
    ),
)
async def approve(
    proposal_id: Annotated[int, Path(ge=1, le=2**63)],
    governance: GovernanceDep,
    _principal: Admin,
) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(governance.approve, proposal_id))


@router.get(
    "/agreements",
    summary="Mutual-recognition agreements (any signed-in role)",
    responses=_responses(
        200,
        "Every agreement window, withdrawals applied, with whether it is in force now.",
        {401: "No or revoked token.", 503: "No chain."},
    ),
)
def list_agreements(governance: GovernanceDep, _principal: AgreementReader) -> JSONResponse:
    return JSONResponse(governance.agreements())
