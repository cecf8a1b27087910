"""Walking a DAG of dag-pb and raw blocks: links of a block, depth-first order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from adapters.content.cid import DAG_PB, Cid
from adapters.content.dag_pb import decode_node


class BlockSource(Protocol):
    """Anything that returns a block's verified bytes by CID."""

    def get(self, cid: Cid) -> bytes: ...


def block_links(cid: Cid, block: bytes) -> tuple[Cid, ...]:
    """CIDs a block links to, in link order (raw blocks link to nothing)."""
    if cid.codec != DAG_PB:
        return ()
    return tuple(link.hash for link in decode_node(block).links)


def depth_first(root: Cid, source: BlockSource) -> Iterator[tuple[Cid, bytes]]:
    """Every block reachable from ``root`` once, parents before children, links in order.

    This is the order (``order=dfs``, ``dups=n``) of ``ipfs dag export`` and of CAR
    responses from trustless gateways.
    """
    seen: set[bytes] = set()
    stack = [root]
    while stack:
        cid = stack.pop()
        key = cid.to_bytes()
        if key in seen:
            continue
        seen.add(key)
        block = source.get(cid)
        yield cid, block
        stack.extend(reversed(block_links(cid, block)))
