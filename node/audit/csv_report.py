"""The CSV form of an audit report: one line per event, every column an auditor needs to
re-check that line (its document's batch root and proof, the chain) repeated on it, so
that the CSV file alone can be re-checked (:func:`report_from_csv` reads it back into the
JSON form :func:`node.audit.check_report` takes)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from node.audit.errors import UnreadableAuditReport
from node.audit.report_format import (
    CHAIN_COLUMNS,
    CSV_COLUMNS,
    DOCUMENT_COLUMNS,
    REPORT_FORMAT,
)

_INTEGER_COLUMNS = frozenset(
    {"line", "blockNumber", "blockTime", "logIndex", "issuerMember", "chainId"}
    | {"deployedBlock", "asOfBlock"}
)


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "arguments":
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if name in ("proof", "addressees"):
        return " ".join(str(item) for item in value)
    return str(value)


def render_csv(report: Mapping[str, Any]) -> str:
    """The report as CSV (RFC 4180, CRLF line ends, a header line)."""
    documents = {d["targetHash"]: d for d in report["documents"]}
    chain = report["chain"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in report["events"]:
        document = documents.get(line["targetHash"], {})
        values = {**chain, **document, **line}
        writer.writerow(_cell(name, values.get(name)) for name in CSV_COLUMNS)
    return out.getvalue()


def _typed(name: str, text: str, row_number: int) -> Any:
    if text == "":
        return [] if name in ("proof", "addressees") else None
    if name in _INTEGER_COLUMNS:
        try:
            return int(text)
        except ValueError:
            return text  # left for the line's own check to name
    if name == "arguments":
        try:
            return json.loads(text)
        except ValueError:
            raise UnreadableAuditReport(
                f"CSV line {row_number}: its arguments are not JSON", path=f"/{row_number}"
            ) from None
    if name in ("proof", "addressees"):
        return text.split()
    return text


def report_from_csv(text: str) -> dict[str, Any]:
    """The JSON form of a CSV report (documents and chain from the lines' columns). A line
    whose document columns differ from its document's first line says so (``mismatch``)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(header) != CSV_COLUMNS:
        raise UnreadableAuditReport(
            f"not a {REPORT_FORMAT} CSV report: its header is not {','.join(CSV_COLUMNS[:4])},..."
        )
    chain: dict[str, Any] | None = None
    documents: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    for row_number, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(CSV_COLUMNS):
            raise UnreadableAuditReport(
                f"CSV line {row_number} has {len(row)} columns, not {len(CSV_COLUMNS)}"
            )
        values = {
            name: _typed(name, cell, row_number)
            for name, cell in zip(CSV_COLUMNS, row, strict=True)
        }
        line_chain = {name: values[name] for name in CHAIN_COLUMNS}
        if chain is None:
            chain = line_chain
        line_document = {name: values[name] for name in DOCUMENT_COLUMNS}
        target = str(values["targetHash"])
        known = documents.setdefault(target, {"targetHash": target, **line_document})
        mismatch = [name for name in DOCUMENT_COLUMNS if known.get(name) != line_document[name]]
        mismatch += [name for name in CHAIN_COLUMNS if chain[name] != line_chain[name]]
        event = {
            name: values[name]
            for name in CSV_COLUMNS
            if name not in DOCUMENT_COLUMNS and name not in CHAIN_COLUMNS
        }
        if mismatch:
            event["mismatch"] = mismatch
        events.append(event)
    if chain is None:
        raise UnreadableAuditReport("the CSV report has no lines")
    return {
        "format": REPORT_FORMAT,
        "chain": chain,
        "documents": list(documents.values()),
        "events": events,
    }


def load_report(content: bytes) -> dict[str, Any]:
    """A report file's JSON form: a ``docex-audit/1`` JSON report, or its CSV."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableAuditReport("the report is not UTF-8 text") from None
    if text.lstrip().startswith("{"):
        try:
            report = json.loads(text)
        except ValueError as error:
            raise UnreadableAuditReport(f"the report is not JSON: {error}") from None
        if not isinstance(report, dict):
            raise UnreadableAuditReport("the report is not a JSON object")
        return report
    return report_from_csv(text)
