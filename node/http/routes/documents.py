"""``POST /v1/documents``: issue one or many documents (202, receipts to follow).

Every document is validated against its schema, and the caller must be an issuer for
its type, of this node's country, before anything is stored; then all of them and the
answer are committed to the outbox in one transaction. An ``Idempotency-Key`` header
makes a retry safe: the same key and body replays the first answer, the same key with
another body is refused (422), and while the first is still in flight the retry gets 409.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Query, Request, Response

from certificates import Recipient, validate_document
from certificates.errors import DocexError, InvalidDocument, SchemaViolation
from certificates.issuance_rules import MAX_ALLOWANCE, check_anchorable
from certificates.json_types import JsonObject, JsonValue
from node.access.users import Principal
from node.consortium.member_directory import MemberDirectory
from node.errors import InvalidIdempotencyKey, NotAuthorised
from node.http.bodies import read_json_with_files
from node.http.deps import Issuer, Services, issuer_directly, services_of
from node.issuing.attachments import AttachmentLimits, store_attachments, take_attachments
from node.issuing.outbox import NewDocument, StoredResponse, fingerprint
from node.services import NodeServices

router = APIRouter(prefix="/v1", tags=["documents"])

_MAX_KEY_LENGTH: Final = 255
#: an ``allowance`` as :func:`issue_documents_directly` takes it (others go to FastAPI)
_PLAIN_NUMBER: Final = re.compile(r"[1-9][0-9]{0,9}")

_REQUEST_BODY: Final[dict[str, Any]] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {"type": "object", "description": "One document (see /v1 schemas)."},
                    {"type": "array", "items": {"type": "object"}, "minItems": 1},
                ]
            }
        }
    },
}


def _at(index: int, error: DocexError) -> DocexError:
    """``error`` with its JSON Pointer moved under ``/index`` (many documents in one body)."""
    error.path = f"/{index}{error.path or ''}"
    if isinstance(error, SchemaViolation):
        error.errors = tuple((f"/{index}{path}", message) for path, message in error.errors)
    return error


def _accepted(
    principal: Principal,
    country: str,
    values: list[JsonValue],
    many: bool,
    today: date,
    sealing: MemberDirectory | None = None,
    allowance: int = 1,
) -> list[NewDocument]:
    """The validated documents; ``sealing`` (confidential) must know every recipient."""
    documents: list[NewDocument] = []
    for index, value in enumerate(values):
        try:
            validated = validate_document(value)
        except InvalidDocument as error:
            raise (_at(index, error) if many else error) from None
        if not principal.may_issue(validated.type_id):
            raise NotAuthorised(
                f"{principal.name} may not issue {validated.type_id} documents",
                path=f"/{index}/documentType" if many else "/documentType",
            )
        if validated.issuer_country() != country:
            raise NotAuthorised(
                f"this node issues for {country}; the document is issued in "
                f"{validated.issuer_country()}"
            )
        try:
            check_anchorable(validated, today)
        except InvalidDocument as error:
            raise (_at(index, error) if many else error) from None
        if sealing is not None:
            missing = sealing.missing((country, *validated.addressee_countries()))
            if missing:
                raise InvalidDocument(
                    "cannot seal a confidential document: no encryption key recorded for "
                    + ", ".join(missing),
                    path=f"/{index}" if many else "",
                )
        documents.append(
            NewDocument.of(
                validated,
                confidential=sealing is not None,
                takes_number=True,
                allowance=allowance,
            )
        )
    return documents


def _recipients_of(
    members: MemberDirectory, country: str
) -> Callable[[JsonObject], list[Recipient]]:
    """Who a confidential document's attached files are sealed for: this node's member and
    the document's addressees (as the document itself is)."""

    def recipients(value: JsonObject) -> list[Recipient]:
        unbound = {key: member for key, member in value.items() if key != "attachments"}
        try:
            addressees = validate_document(unbound).addressee_countries()
        except InvalidDocument:
            addressees = ()  # refused with its own error once the document is validated
        countries = list(dict.fromkeys((country, *addressees)))
        missing = members.missing(countries)
        if missing:
            raise InvalidDocument(
                "cannot seal a confidential document: no encryption key recorded for "
                + ", ".join(missing),
                path="",
            )
        return members.recipients(countries)

    return recipients


def _sealing_secret(
    signing_key: bytes, principal: Principal, idempotency_key: str | None
) -> bytes | None:
    """The envelope randomness key of a request with an Idempotency-Key (a retry seals its
    files to the same bytes); None: random."""
    if idempotency_key is None:
        return None
    label = f"docex attachment sealing/{principal.user_id}/{idempotency_key}".encode()
    return hashlib.sha256(signing_key + label).digest()


def _receipts_response(ids: list[str]) -> StoredResponse:
    body = {
        "receipts": [
            {"id": receipt_id, "status": "pending", "url": f"/v1/receipts/{receipt_id}"}
            for receipt_id in ids
        ]
    }
    return StoredResponse(202, json.dumps(body, separators=(",", ":")).encode("utf-8"))


def _response(stored: StoredResponse, replayed: bool) -> Response:
    headers: dict[str, str] = {}
    body = json.loads(stored.body)
    receipts = body.get("receipts", [])
    if len(receipts) == 1:
        headers["Location"] = receipts[0]["url"]
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        stored.body, status_code=stored.status, media_type="application/json", headers=headers
    )


@router.post(
    "/documents",
    status_code=202,
    summary="Issue documents",
    description=(
        "One document (a JSON object) or many (a JSON array), each of a type the caller "
        "may issue. Answers 202 with one receipt URL per document once they are durable "
        "in the outbox; a receipt stays `pending` until its batch root is mined. With "
        "`confidential=true` the content is stored sealed (docex-envelope/1) for this "
        "node's member and each addressee country's member only. `allowance` is the "
        "total quantity each document's addressees may use against declarations (1, the "
        "default: single use); it is committed in the document's terms on chain, so a "
        "use beyond it is refused by the DocumentRegistry, whoever asks."
    ),
    openapi_extra={"requestBody": _REQUEST_BODY},
    responses={
        202: {"description": "Accepted; receipts pending."},
        400: {"description": "Not strict JSON."},
        401: {"description": "No or revoked token."},
        403: {"description": "Not an issuer of this type or country."},
        409: {"description": "The first request with this Idempotency-Key is in flight."},
        413: {"description": "Body, or an attached file, too large."},
        415: {"description": "Not application/json."},
        422: {"description": "Invalid document, or Idempotency-Key reused with another body."},
    },
)
async def issue_documents(
    request: Request,
    services: Services,
    principal: Issuer,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Makes a retry safe (replays the answer).",
            max_length=255,  # node.db.tables.IdempotencyRow.key
        ),
    ] = None,
    confidential: Annotated[
        bool,
        Query(description="Store the documents sealed for the issuer and the addressees."),
    ] = False,
    allowance: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_ALLOWANCE,
            description=(
                "The total quantity each document's addressees may use (uses add up; "
                "1: a single use)."
            ),
        ),
    ] = 1,
) -> Response:
    return await _issue(request, services, principal, idempotency_key, confidential, allowance)


async def issue_documents_directly(request: Request) -> Response | None:
    """:func:`issue_documents` without FastAPI (:mod:`node.http.direct_routes`), for a
    request FastAPI would admit as it stands: a live issuer's bearer token, parameters as
    plain as they come (``confidential`` ``true`` or ``false``, ``allowance`` a number in
    its range, at most one ``Idempotency-Key`` of the length the route allows), each once.
    Any other request is passed on (None, its body unread) and FastAPI answers it as it
    did, with its own parsing and its own refusals."""
    services = services_of(request)
    parameters = _plain_parameters(request)
    if parameters is None:
        return None
    principal = issuer_directly(request, services)
    if principal is None:
        return None
    return await _issue(request, services, principal, *parameters)


def _plain_parameters(request: Request) -> tuple[str | None, bool, int] | None:
    """(idempotency key, confidential, allowance) when they are in the plain forms
    :func:`issue_documents_directly` takes; None otherwise."""
    query = request.query_params.multi_items()
    names = [name for name, _ in query]
    if len(set(names)) != len(names) or not set(names) <= {"confidential", "allowance"}:
        return None
    values = dict(query)
    confidential = values.get("confidential", "false")
    allowance = values.get("allowance", "1")
    if confidential not in ("true", "false") or _PLAIN_NUMBER.fullmatch(allowance) is None:
        return None
    quantity = int(allowance)
    keys = request.headers.getlist("idempotency-key")
    if quantity > MAX_ALLOWANCE or len(keys) > 1 or (keys and len(keys[0]) > _MAX_KEY_LENGTH):
        return None
    return (keys[0] if keys else None), confidential == "true", quantity


async def _issue(
    request: Request,
    services: NodeServices,
    principal: Principal,
    idempotency_key: str | None,
    confidential: bool,
    allowance: int,
) -> Response:
    settings = services.settings
    value = await read_json_with_files(
        request, settings.max_body_bytes, settings.max_attachments_bytes
    )
    many = isinstance(value, list)
    values: list[JsonValue] = value if isinstance(value, list) else [value]
    if not values:
        raise InvalidDocument("send at least one document", path="")
    if len(values) > settings.max_documents_per_request:
        raise InvalidDocument(
            f"at most {settings.max_documents_per_request} documents per request", path=""
        )
    recipients_of = _recipients_of(services.members, settings.country) if confidential else None
    values, staged = take_attachments(
        values,
        AttachmentLimits(settings.max_attachment_bytes, settings.max_attachments_bytes),
        recipients_of=recipients_of,
        sealing_secret=_sealing_secret(services.ledger.signing_key, principal, idempotency_key),
        layout=services.store.layout,
        many=many,
    )
    documents = _accepted(
        principal,
        settings.country,
        values,
        many,
        datetime.now(UTC).date(),
        services.members if confidential else None,
        allowance,
    )
    if idempotency_key is not None:
        if not 1 <= len(idempotency_key) <= _MAX_KEY_LENGTH or not idempotency_key.isprintable():
            raise InvalidIdempotencyKey(
                f"an Idempotency-Key is 1 to {_MAX_KEY_LENGTH} printable characters"
            )
        stored = services.outbox.reserve_key(
            principal.user_id, idempotency_key, fingerprint(documents)
        )
        if stored is not None:
            return _response(stored, replayed=True)
    try:
        store_attachments(services.store, staged)
    except BaseException:
        if idempotency_key is not None:
            services.outbox.release_key(principal.user_id, idempotency_key)
        raise
    # committed off the event loop with the other requests waiting (one sync to disk for
    # all); a refused request's key is released by the writer, whatever becomes of us
    stored = await services.acceptance.enqueue(
        principal.user_id, documents, _receipts_response, idempotency_key
    )
    services.metrics.documents_accepted.inc(len(documents))
    services.batcher.wake()
    return _response(stored, replayed=False)
