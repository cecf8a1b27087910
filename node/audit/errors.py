"""The audit reports' own errors (each a 4xx problem at the HTTP edge, exit 2 in the CLI)."""

from __future__ import annotations

from certificates.errors import Invalid
from node.errors import NodeError


class InvalidAuditQuery(Invalid, NodeError):
    """Not exactly one of document, issuer, addressee; a bad country code or period."""

    code = "invalid-audit-query"


class AuditReportTooLarge(Invalid, NodeError):
    """The report would list more events than the node's cap: narrow the period."""

    code = "audit-report-too-large"


class UnreadableAuditReport(Invalid, NodeError):
    """A report to re-check that is neither a docex-audit/1 JSON report nor its CSV."""

    code = "unreadable-audit-report"
