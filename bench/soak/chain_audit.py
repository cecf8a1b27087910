"""Every accepted document anchored exactly once, checked against the chain itself.

The node's claims (a receipt's target hash and Merkle proof, read from its outbox) are
checked against the DocumentRegistry's own logs, read with plain ``eth_getLogs``: the
proof must lead from the target hash to a root anchored by this node's issuer key in
exactly one ``BatchAnchored`` event, and the issuer's anchored batches together must
hold exactly as many documents as were accepted (a document re-wrapped into a second
batch would carry new salts, a new target hash, and show up as a surplus here).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from certificates.merkle import root_from_proof
from ledger import Deployment
from node.network.anchor_audit import anchored_batches
from node.runtime import read_issuer_key
from node.settings import NodeSettings


@dataclass(frozen=True, slots=True)
class AnchorAudit:
    accepted: int
    #: accepted documents with no anchor on chain (not anchored, or proof leads nowhere)
    lost: int
    #: roots anchored more than once, plus documents anchored beyond the accepted ones
    duplicated: int
    batches_on_chain: int
    documents_on_chain: int

    @property
    def holds(self) -> bool:
        return self.lost == 0 and self.duplicated == 0

    def figures(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "batches_on_chain": self.batches_on_chain,
            "documents_on_chain": self.documents_on_chain,
        }


def issuer_batches(rpc_url: str, data_dir: Path) -> list[tuple[bytes, int]]:
    """(root, document count) of every batch the node's issuer key anchored, from the logs."""
    issuer = read_issuer_key(NodeSettings(data_dir=data_dir)).address
    return anchored_batches(rpc_url, Deployment.read(data_dir), issuer)


def claimed_anchors(data_dir: Path, receipt_ids: Sequence[str]) -> dict[str, bytes | None]:
    """Receipt id -> the batch root its target hash and proof lead to (None: no claim)."""
    claims: dict[str, bytes | None] = dict.fromkeys(receipt_ids)
    uri = f"file:{data_dir / 'node.sqlite'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        db.execute("PRAGMA busy_timeout=10000")
        for receipt_id, state, target, wrapped in db.execute(
            "SELECT o.id, o.state, o.target_hash, w.wrapped_json FROM outbox o"
            " LEFT JOIN outbox_wrapped w ON w.receipt_id = o.id"
        ):
            if receipt_id not in claims or state != "anchored" or wrapped is None:
                continue
            proof = [bytes.fromhex(p[2:]) for p in json.loads(wrapped)["batch"]["proof"]]
            claims[receipt_id] = root_from_proof(bytes(target), proof)
    return claims


def audit_anchors(rpc_url: str, data_dir: Path, receipt_ids: Sequence[str]) -> AnchorAudit:
    """Check the accepted ``receipt_ids`` of the node in ``data_dir`` against the chain."""
    batches = issuer_batches(rpc_url, data_dir)
    times = Counter(root for root, _ in batches)
    claims = claimed_anchors(data_dir, receipt_ids)
    lost = sum(1 for root in claims.values() if root is None or times[root] == 0)
    if lost:
        _explain_lost(claims, times)
    on_chain = sum(count for _, count in batches)
    repeated = sum(n - 1 for n in times.values() if n > 1)
    surplus = max(on_chain - len(receipt_ids), 0)
    return AnchorAudit(
        accepted=len(receipt_ids),
        lost=lost,
        duplicated=repeated + surplus,
        batches_on_chain=len(batches),
        documents_on_chain=on_chain,
    )


def _explain_lost(claims: dict[str, bytes | None], anchored: Counter[bytes]) -> None:
    """Say why documents count as lost (printed with the scenario's output, where a failed
    ``make test`` shows it): no anchored claim in the outbox, or a claim whose root the
    issuer never anchored (and which roots each side holds)."""
    unclaimed = sum(1 for root in claims.values() if root is None)
    claimed = Counter(root for root in claims.values() if root is not None)
    elsewhere = {root: n for root, n in claimed.items() if anchored[root] == 0}
    print(
        f"     audit: {unclaimed} accepted document(s) not anchored in the outbox, "
        f"{sum(elsewhere.values())} whose proof leads to a root the issuer never anchored; "
        f"claimed roots {_roots(claimed)}, anchored {_roots(anchored)}",
        flush=True,
    )


def _roots(roots: Counter[bytes]) -> str:
    return ", ".join(f"{root.hex()[:12]} x{n}" for root, n in sorted(roots.items())) or "none"
