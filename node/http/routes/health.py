"""``/healthz`` (the process answers), ``/readyz`` (database, chain, store and index usable).

A check that fails says why with a stable code and its message (a chain or Kubo that
does not answer: ``rpc-unreachable``, ``content-store-unavailable``; a database that
does not answer: ``database-unavailable``), never a stack trace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from certificates import DocexError
from node.http.deps import Services

router = APIRouter(tags=["operations"])

#: the index may trail the head by this many blocks and still be "in step"
MAX_INDEX_LAG = 5


def _reason(error: SQLAlchemyError) -> str:
    """The driver's message (SQLAlchemy's wraps it with the statement and a link)."""
    return str(getattr(error, "orig", None) or error)[:500]


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: database and chain reachable, index in step, store usable",
    responses={503: {"description": "A component is not ready."}},
)
def readyz(services: Services) -> JSONResponse:
    checks: dict[str, Any] = {}
    ready = True
    try:
        # a PostgreSQL server gone or refusing (DOCEX_DATABASE_URL); a SQLite file answers
        with services.database.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ready": True}
    except SQLAlchemyError as error:
        ready = False
        checks["database"] = {
            "ready": False,
            "code": "database-unavailable",
            "reason": _reason(error),
        }
    try:
        services.store.check_ready()  # cheap: never lists the pins, which grow per batch
        checks["store"] = {"ready": True}
    except DocexError as error:
        ready = False
        checks["store"] = {"ready": False, "code": error.code, "reason": str(error)}
    except OSError as error:
        ready = False
        checks["store"] = {"ready": False, "code": "store-unreadable", "reason": str(error)}
    ledger = services.ledger
    try:
        head = ledger.head_block()
        indexed = ledger.indexer.checkpoint()
        lag = max(head - indexed, 0)
        in_step = lag <= MAX_INDEX_LAG
        checks["chain"] = {"ready": True, "head": head}
        checks["index"] = {"ready": in_step, "indexedBlock": indexed, "lag": lag}
        ready = ready and in_step
    except DocexError as error:
        ready = False
        checks["chain"] = {"ready": False, "code": error.code, "reason": str(error)}
    except SQLAlchemyError as error:  # the index's database
        ready = False
        checks["index"] = {"ready": False, "code": "database-unavailable", "reason": _reason(error)}
    return JSONResponse(
        {"status": "ready" if ready else "not-ready", "checks": checks},
        status_code=200 if ready else 503,
    )
