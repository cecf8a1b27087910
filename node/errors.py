"""The node's errors, and the one place where every error becomes RFC 9457 problem+json.

Every :class:`~certificates.errors.DocexError` (the node's own below, and those of
``certificates``, ``ledger`` and ``adapters``) carries a stable ``code`` and an
``http_status``; :func:`install_problem_handlers` turns it into
``application/problem+json`` with ``type`` ``urn:docex:problem:<code>``. Request
validation errors (path, query, headers) become 422 problems; unknown routes and methods
404/405 problems; a full disk (ENOSPC, SQLITE_FULL, wherever it is raised) a 507
``storage-full`` problem; anything unexpected a 500 problem that says nothing of the
internals.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from certificates.errors import DocexError, SchemaViolation

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_PREFIX: Final = "urn:docex:problem:"

_log = logging.getLogger("docex.node")


class NodeError(DocexError):
    """An error the node service raises itself."""

    code = "node-error"
    http_status = 500


class InvalidSettings(NodeError):
    code = "invalid-settings"
    http_status = 500


class NotAuthenticated(NodeError):
    """No bearer token, an unknown one, or a revoked one."""

    code = "not-authenticated"
    http_status = 401


class NotAuthorised(NodeError):
    """A known user whose role or document types do not allow this."""

    code = "not-authorised"
    http_status = 403


class RateLimited(NodeError):
    code = "rate-limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnsupportedMediaType(NodeError):
    code = "unsupported-media-type"
    http_status = 415


class InvalidRequestParameters(NodeError):
    """Query or path parameters that are each well formed but do not go together: the
    same problem code as a parameter FastAPI's validation refuses."""

    code = "invalid-request"
    http_status = 422


class IdempotencyKeyReused(NodeError):
    """The same Idempotency-Key sent again with another body."""

    code = "idempotency-key-reused"
    http_status = 422


class IdempotencyKeyInFlight(NodeError):
    """The first request with this Idempotency-Key has not finished yet."""

    code = "idempotency-key-in-flight"
    http_status = 409


class InvalidIdempotencyKey(NodeError):
    code = "invalid-idempotency-key"
    http_status = 400


class ReceiptNotFound(NodeError):
    code = "receipt-not-found"
    http_status = 404


class BatchNotFound(NodeError):
    code = "batch-not-found"
    http_status = 404


class InboxDocumentNotFound(NodeError):
    code = "inbox-document-not-found"
    http_status = 404


class UserExists(NodeError):
    code = "user-exists"
    http_status = 409


class UnknownUser(NodeError):
    code = "unknown-user"
    http_status = 404


class InvalidRole(NodeError):
    code = "invalid-role"
    http_status = 400


class NotReady(NodeError):
    """A component the request needs is not available (no chain, index behind)."""

    code = "not-ready"
    http_status = 503


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An ``application/problem+json`` response (RFC 9457)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


def problem_for(error: DocexError, instance: str | None = None) -> JSONResponse:
    """The problem response of one DocexError (its own status, code and JSON Pointer)."""
    extra: dict[str, Any] = {}
    if error.path is not None:
        extra["path"] = error.path
    if isinstance(error, SchemaViolation) and error.errors:
        extra["errors"] = [{"path": path, "message": message} for path, message in error.errors]
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="docex"'
    status = error.http_status
    if status >= 500:
        _log.error("request failed", extra={"code": error.code, "detail": str(error)})
    return problem(status, error.code, str(error), instance=instance, extra=extra, headers=headers)


class StorageFull(NodeError):
    """The data dir's file system is full (ENOSPC, SQLITE_FULL): nothing was stored, the
    databases are intact (SQLite rolled the transaction back); retry once space is freed."""

    code = "storage-full"
    http_status = 507


#: SQLite's primary result code for "database or disk is full"
_SQLITE_FULL: Final = 13


def storage_full_cause(error: BaseException) -> BaseException | None:
    """The disk-full error behind ``error`` (itself, its causes, SQLAlchemy's ``orig``)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return current
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return current
        orig = getattr(current, "orig", None)
        pending += [current.__cause__, current.__context__]
        if isinstance(orig, BaseException):
            pending.append(orig)
    return None


def _storage_full(error: BaseException, instance: str) -> JSONResponse | None:
    cause = storage_full_cause(error)
    if cause is None:
        return None
    return problem_for(
        StorageFull(f"the node's storage is full; nothing was stored, retry later ({cause})"),
        instance,
    )


async def _docex_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DocexError)
    return _storage_full(error, request.url.path) or problem_for(error, request.url.path)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "path": "/" + "/".join(str(part) for part in detail.get("loc", ())),
            "message": str(detail.get("msg", "")),
        }
        for detail in error.errors()
    ]
    first = errors[0]["message"] if errors else "invalid request"
    return problem(
        422,
        "invalid-request",
        f"the request is not valid: {first}",
        instance=request.url.path,
        extra={"errors": errors},
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
    return problem(
        error.status_code,
        code,
        str(error.detail),
        instance=request.url.path,
        headers=error.headers,
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    full = _storage_full(error, request.url.path)
    if full is not None:
        return full
    _log.exception("unexpected error", exc_info=error)
    return problem(
        500,
        "internal-error",
        "the node failed to handle this request; see its log",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error an endpoint can raise to problem+json (the only such mapping)."""
    app.add_exception_handler(DocexError, _docex_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # the errors a full disk raises: answered here (507 when full, else as unexpected)
    for storage_error in (OSError, sqlite3.Error, SQLAlchemyError):
        app.add_exception_handler(storage_error, _unexpected_error)
    app.add_exception_handler(Exception, _unexpected_error)


# --- document lifecycle and consortium governance
# (node/documents/lifecycle.py, node/consortium/governance.py) ---


class InvalidRequestBody(SchemaViolation):
    """A JSON body that does not match the endpoint's model; ``errors`` lists each field
    (a :class:`SchemaViolation`, so the problem carries them as ``errors``)."""

    code = "invalid-request-body"
    http_status = 422


class DocumentNotFound(NodeError):
    code = "document-not-found"
    http_status = 404


class DocumentNotAnchored(NodeError):
    """The document's batch is not (yet) anchored, or not yet in this node's index."""

    code = "document-not-anchored"
    http_status = 409


class DocumentNotCurrent(NodeError):
    """Revoked, superseded, or already being amended: the request would change nothing."""

    code = "document-not-current"
    http_status = 409


class GovernanceUnavailable(NodeError):
    """This node holds no member (governance) key, so it cannot propose or approve."""

    code = "governance-unavailable"
    http_status = 503
