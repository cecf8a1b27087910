"""``GET /v1/audit``: the audit report of one document, or of an issuer country's or an
addressee country's documents in a period, as JSON, CSV or printable HTML; the work is in
:mod:`node.audit`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query
from fastapi.responses import Response

from certificates import canonicalize
from node.audit import render_csv, render_html
from node.audit.query import parse_audit_query
from node.http.deps import AuditReader, Audits, Services

router = APIRouter(prefix="/v1", tags=["audit"])


_PROBLEM: Final = {"application/problem+json": {"schema": {"type": "object"}}}
#: the HTML report is a standalone file: its own inline style, nothing else
_HTML_POLICY: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


@router.get(
    "/audit",
    summary="Audit report: a document's provenance, or an issuer's or addressee's documents",
    description=(
        "Exactly one of `document` (receipt id, target hash or CID of a document this node "
        "holds), `issuer` or `addressee` (ISO 3166-1 alpha-2 country code). With `issuer` or "
        "`addressee`, `from` and `to` (ISO dates or date-times, UTC; `to` inclusive) select "
        "the documents anchored, or with an event, in the period. Every on-chain event with "
        "block number, block hash, block time, transaction hash and log index, plus the chain "
        "id, genesis hash, contract addresses, and each document's target hash, batch root "
        "and Merkle proof, so that `docex audit --check` or any Ethereum client can re-check "
        "each line. `format`: `json` (canonical, RFC 8785; the source of truth), `csv` (one "
        "line per event) or `html` (printable). Auditors and admins; an issuer only for the "
        "documents it issued."
    ),
    responses={
        200: {
            "description": "The report.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        401: {"description": "No or revoked token.", "content": _PROBLEM},
        403: {"description": "Not an auditor, admin or the issuer.", "content": _PROBLEM},
        404: {"description": "This node holds no such document.", "content": _PROBLEM},
        409: {"description": "The document is not anchored yet.", "content": _PROBLEM},
        422: {
            "description": "A bad query or period, or more events than the node's cap.",
            "content": _PROBLEM,
        },
        503: {"description": "This node has no chain.", "content": _PROBLEM},
    },
)
def audit_report(
    principal: AuditReader,
    services: Services,
    audits: Audits,
    document: Annotated[
        str | None, Query(max_length=200, description="Receipt id, target hash or CID.")
    ] = None,
    issuer: Annotated[str | None, Query(max_length=8, description="Issuer country.")] = None,
    addressee: Annotated[str | None, Query(max_length=8, description="Addressee country.")] = None,
    period_from: Annotated[
        str | None, Query(alias="from", max_length=40, description="Start (ISO).")
    ] = None,
    period_to: Annotated[
        str | None, Query(alias="to", max_length=40, description="End, inclusive (ISO).")
    ] = None,
    report_format: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.JSON,
) -> Response:
    query = parse_audit_query(
        document=document,
        issuer=issuer,
        addressee=addressee,
        period_from=period_from,
        period_to=period_to,
    )
    report: dict[str, Any] = audits.build(
        principal, query, max_events=services.settings.audit_max_events
    )
    name = f"docex-audit-{query.scope.value}-{query.subject[:70]}"
    if report_format is ReportFormat.CSV:
        return Response(
            render_csv(report).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{_safe(name)}.csv"'},
        )
    if report_format is ReportFormat.HTML:
        return Response(
            render_html(report).encode(),
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": _HTML_POLICY,
                "X-Content-Type-Options": "nosniff",
            },
        )
    return Response(canonicalize(report), media_type="application/json")


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
