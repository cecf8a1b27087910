"""The one place where errors become HTTP: RFC 9457 problem+json and status codes.

Errors carry no transport: every :class:`~certificates.errors.DocexError` (the node's
own, and those of ``certificates``, ``ledger`` and ``adapters``) has a stable ``code`` and
derives from one *kind* (:mod:`certificates.errors`). :data:`STATUS_BY_KIND` maps kinds
to status codes, with the few errors whose status differs from their kind's listed
before it; :func:`install_problem_handlers` turns an error into
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

from adapters.errors import InvalidBlock, InvalidCar
from adapters.printing.errors import UnprintableDocument
from certificates.disclosure import DisclosureError
from certificates.errors import (
    Conflict,
    DocexError,
    Invalid,
    InvalidDocument,
    InvalidInput,
    InvalidWrappedDocument,
    KeystoreError,
    NotFound,
    Refused,
    SchemaViolation,
    TooLarge,
    Unavailable,
    UpstreamFailed,
    WrongPassphrase,
)
from ledger.errors import DeploymentError, TransactionNotConfirmed
from node.errors import (
    DocumentNumberTaken,
    NotAuthenticated,
    RateLimited,
    StorageFull,
    UnsupportedMediaType,
)
from node.http.plain_messages import plain_message

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_PREFIX: Final = "urn:docex:problem:"

_log = logging.getLogger("docex.node")

#: status code of each kind; an error takes the first class of its MRO listed here, so
#: the few errors whose status differs from their kind's come first
STATUS_BY_KIND: Final[Mapping[type[DocexError], int]] = {
    # exceptions to their kind
    NotAuthenticated: 401,
    WrongPassphrase: 401,
    RateLimited: 429,
    UnsupportedMediaType: 415,
    StorageFull: 507,
    TransactionNotConfirmed: 504,
    InvalidDocument: 422,
    InvalidWrappedDocument: 422,
    DisclosureError: 422,
    InvalidBlock: 422,
    InvalidCar: 422,
    UnprintableDocument: 422,
    KeystoreError: 400,
    DeploymentError: 400,
    InvalidInput: 400,
    # the kinds
    TooLarge: 413,
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Refused: 403,
    Unavailable: 503,
    UpstreamFailed: 502,
    DocexError: 500,
}


def status_for(error: DocexError) -> int:
    """The HTTP status of ``error``: that of the first class of its MRO in the table."""
    for kind in type(error).__mro__:
        status = STATUS_BY_KIND.get(kind)
        if status is not None:
            return status
    return 500


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
    if isinstance(error, DocumentNumberTaken):
        extra["firstReceipt"] = error.first_receipt
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="docex"'
    status = status_for(error)
    if status >= 500:
        _log.error("request failed", extra={"code": error.code, "detail": str(error)})
    return problem(status, error.code, str(error), instance=instance, extra=extra, headers=headers)


#: SQLite's primary result code for "database or disk is full"
_SQLITE_FULL: Final = 13
#: PostgreSQL's SQLSTATE disk_full (psycopg's errors carry it as ``sqlstate``)
_POSTGRES_DISK_FULL: Final = "53100"


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
        if getattr(current, "sqlstate", None) == _POSTGRES_DISK_FULL:
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
            "message": plain_message(detail),
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
