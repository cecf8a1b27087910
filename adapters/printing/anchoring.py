"""The facts of a document's anchoring that a printed certificate shows in small type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AnchoringFacts:
    """Where the document's batch root was anchored: transaction, block, block time."""

    tx_hash: str
    block_number: int
    anchored_at: datetime
