"""The printable HTML form of an audit report: one self-contained page (no script, no
external resource) with print CSS: A4 landscape, table headers repeated on every page,
rows never split, hashes in full in a monospace face. Every value is escaped."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any, Final

#: the page's only style: inline, since the file travels alone (no script at all)
_STYLE: Final = """
body { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; margin: 1.5em; }
h1 { font-size: 16pt; margin: 0 0 .2em; }
h2 { font-size: 12pt; margin: 1.2em 0 .4em; break-after: avoid; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #999; padding: 2px 4px; text-align: left; vertical-align: top; }
th { background: #eee; font-size: 9pt; overflow-wrap: anywhere; }
td { overflow-wrap: anywhere; } tr { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
.hash { font-family: "DejaVu Sans Mono", monospace; font-size: 8pt; word-break: break-all; }
.args { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
.args div { margin: 0; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dt { font-weight: bold; } dd { margin: 0; }
.note { font-size: 9pt; color: #333; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; } a { color: inherit; text-decoration: none; } }
"""


def _hash(value: Any) -> str:
    return f'<span class="hash">{escape(str(value))}</span>'


def _definition(items: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _arguments(arguments: Mapping[str, Any]) -> str:
    """One ``name: value`` line per argument (lists joined by spaces)."""
    lines = []
    for name in sorted(arguments):
        value = arguments[name]
        text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        lines.append(f"<div>{escape(name)}: {escape(text)}</div>")
    return '<div class="args">' + "".join(lines) + "</div>"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one printable HTML page."""
    chain = report["chain"]
    query = {k: v for k, v in report.get("query", {}).items() if v is not None}
    subject = ", ".join(f"{k} {v}" for k, v in query.items()) or "all documents"
    by = report.get("generatedBy", {})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>docex audit report: {escape(subject)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>docex audit report</h1>",
        f"<p>{escape(subject)}. Generated {escape(str(report.get('generatedAt', '')))} by the "
        f"{escape(str(by.get('country', '')))} node {escape(str(by.get('node', '')))}: "
        f"{_plural(report['summary']['documents'], 'document')}, "
        f"{_plural(report['summary']['events'], 'event')}.</p>",
        "<h2>Chain</h2>",
        _definition(
            [
                ("Chain id", escape(str(chain["chainId"]))),
                ("Genesis block", _hash(chain["genesisHash"])),
                ("DocumentRegistry", _hash(chain["documentRegistry"])),
                ("ConsortiumRegistry", _hash(chain["consortiumRegistry"])),
                ("Deployed at block", escape(str(chain["deployedBlock"]))),
                ("Deployment block hash", _hash(chain.get("deployedBlockHash", ""))),
                ("Events up to block", escape(str(chain["asOfBlock"]))),
            ]
        ),
        "<h2>Documents</h2>",
        '<table><colgroup><col style="width:4%"><col style="width:20%"><col style="width:6%">'
        '<col style="width:15%"><col style="width:8%"><col style="width:8%">'
        '<col style="width:34%"><col style="width:5%"></colgroup>',
        "<thead><tr><th>Doc</th><th>Target hash</th><th>Type</th><th>Issuer</th>"
        "<th>Addressees</th><th>Status</th><th>Batch root and Merkle proof</th>"
        "<th>Lines</th></tr></thead><tbody>",
    ]
    numbers: dict[str, int] = {}
    for number, document in enumerate(report["documents"], start=1):
        numbers[document["targetHash"]] = number
        proof = "<br>".join(_hash(sibling) for sibling in document["proof"]) or "(single)"
        first, last = document.get("lines", ["", ""])
        parts.append(
            "<tr>"
            f"<td>{number}</td>"
            f"<td>{_hash(document['targetHash'])}</td>"
            f"<td>{escape(str(document['documentType']))}</td>"
            f"<td>{escape(str(document['issuerCountry']))} (member "
            f"{escape(str(document['issuerMember']))})<br>{_hash(document['issuer'])}</td>"
            f"<td>{escape(', '.join(document['addressees']))}</td>"
            f"<td>{escape(str(document['status']))}</td>"
            f"<td>root {_hash(document['batchRoot'])}<br>proof:<br>{proof}</td>"
            f"<td>{escape(str(first))}-{escape(str(last))}</td>"
            "</tr>"
        )
    parts += [
        "</tbody></table>",
        "<h2>Events</h2>",
        '<table><colgroup><col style="width:4%"><col style="width:4%"><col style="width:10%">'
        '<col style="width:15%"><col style="width:10%"><col style="width:15%">'
        '<col style="width:4%"><col style="width:38%"></colgroup>',
        "<thead><tr><th>Line</th><th>Doc</th><th>Event</th><th>Block</th>"
        "<th>Block time (UTC)</th><th>Transaction</th><th>Log</th><th>Arguments</th>"
        "</tr></thead><tbody>",
    ]
    for line in report["events"]:
        listed = numbers.get(line["targetHash"])
        document_cell = str(listed) if listed is not None else _hash(line["targetHash"])
        parts.append(
            "<tr>"
            f"<td>{escape(str(line['line']))}</td>"
            f"<td>{document_cell}</td>"
            f"<td>{escape(str(line['event']))}</td>"
            f"<td>{escape(str(line['blockNumber']))}<br>{_hash(line['blockHash'])}</td>"
            f"<td>{escape(str(line['blockTimeUtc']))}<br>({escape(str(line['blockTime']))})</td>"
            f"<td>{_hash(line['txHash'])}</td>"
            f"<td>{escape(str(line['logIndex']))}</td>"
            f"<td>{_arguments(line['arguments'])}</td>"
            "</tr>"
        )
    parts += [
        "</tbody></table>",
        '<p class="note">Re-check every line with any Ethereum client: '
        "<code>docex audit --check REPORT --rpc URL</code>, or by hand with "
        "<code>eth_getTransactionReceipt</code> (the log at that index), "
        "<code>eth_getBlockByNumber</code> (the block time) and <code>eth_getLogs</code> "
        "(no event left out). See docs/audit.md.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
