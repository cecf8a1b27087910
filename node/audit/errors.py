"""The audit reports' own errors (each a 4xx problem at the HTTP edge, exit 2 in the CLI)."""

from __future__ import annotations

from node.errors import NodeError


class InvalidAuditQuery(NodeError):
    """Not exactly one of document, issuer, addressee; a bad country code or period."""

    code = "invalid-audit-query"
    http_status = 422


class AuditReportTooLarge(NodeError):
    """The report would list more events than the node's cap: narrow the period."""

    code = "audit-report-too-large"
    http_status = 422


class UnreadableAuditReport(NodeError):
    """A report to re-check that is neither a docex-audit/1 JSON report nor its CSV."""

    code = "unreadable-audit-report"
    http_status = 422
