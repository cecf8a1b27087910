"""Audit reports: a document's provenance, or an issuer's or addressee's documents in a
period, as JSON (``docex-audit/1``, canonical, the source of truth), CSV and printable
HTML; and :func:`check_report`, which re-checks every line against the chain through
plain JSON-RPC, trusting nothing the node says. See docs/audit.md.

- :mod:`node.audit.query`: what a report is of (validated);
- :mod:`node.audit.report`: building it from the node's index and held documents;
- :mod:`node.audit.csv_report`, :mod:`node.audit.html_report`: the other forms;
- :mod:`node.audit.chain_check`: the auditor's re-check (needs no node).
"""

from __future__ import annotations

from node.audit.chain_check import ReportCheck, check_report
from node.audit.csv_report import load_report, render_csv, report_from_csv
from node.audit.errors import AuditReportTooLarge, InvalidAuditQuery, UnreadableAuditReport
from node.audit.html_report import render_html
from node.audit.report_format import REPORT_FORMAT

__all__ = [
    "REPORT_FORMAT",
    "AuditReportTooLarge",
    "InvalidAuditQuery",
    "ReportCheck",
    "UnreadableAuditReport",
    "check_report",
    "load_report",
    "render_csv",
    "render_html",
    "report_from_csv",
]
