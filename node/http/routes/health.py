"""``/healthz`` (the process answers), ``/readyz`` (chain, store and index usable).

A check that fails says why with the error's stable code and its message (a chain or
Kubo that does not answer: ``chain-unavailable``, ``content-store-unavailable``), never
a stack trace."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from certificates import DocexError
from node.http.deps import Services

router = APIRouter(tags=["operations"])

#: the index may trail the head by this many blocks and still be "in step"
MAX_INDEX_LAG = 5


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: chain reachable, index in step, store usable",
    responses={503: {"description": "A component is not ready."}},
)
def readyz(services: Services) -> JSONResponse:
    checks: dict[str, Any] = {}
    ready = True
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
    return JSONResponse(
        {"status": "ready" if ready else "not-ready", "checks": checks},
        status_code=200 if ready else 503,
    )
