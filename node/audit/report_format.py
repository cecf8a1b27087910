"""The report format's name and the columns of its CSV form (shared by the node that
writes reports and the auditor's re-check, which needs no node)."""

from __future__ import annotations

from typing import Final

REPORT_FORMAT: Final = "docex-audit/1"

#: one CSV line per event: the event, its document, and the chain (repeated, so that a
#: CSV file alone is enough to re-check every line)
CSV_COLUMNS: Final = (
    "line",
    "targetHash",
    "event",
    "blockNumber",
    "blockHash",
    "blockTime",
    "blockTimeUtc",
    "txHash",
    "logIndex",
    "contract",
    "arguments",
    "batchRoot",
    "proof",
    "documentType",
    "issuer",
    "issuerMember",
    "issuerCountry",
    "addressees",
    "status",
    "receiptId",
    "chainId",
    "genesisHash",
    "documentRegistry",
    "consortiumRegistry",
    "deployedBlock",
    "deployedBlockHash",
    "asOfBlock",
)
#: the document's own columns (the same on every line of one document)
DOCUMENT_COLUMNS: Final = (
    "batchRoot",
    "proof",
    "documentType",
    "issuer",
    "issuerMember",
    "issuerCountry",
    "addressees",
    "status",
    "receiptId",
)
CHAIN_COLUMNS: Final = (
    "chainId",
    "genesisHash",
    "documentRegistry",
    "consortiumRegistry",
    "deployedBlock",
    "deployedBlockHash",
    "asOfBlock",
)
