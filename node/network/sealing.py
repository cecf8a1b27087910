"""Whether a Clique network's signers agree on its blocks.

Clique lets a signer seal one block in every ``floor(N/2) + 1``. Started together, two
signers may seal block 1 at the same moment and two others block 2 on each of those: two
branches of equal weight, each signer "signed recently" on its own branch, and no one may
seal block 3 on either. The chain then stops for good (seen on this machine under load:
``Block sealing failed err="signed recently, must wait for others"`` on all four
signers). Starting the signers one at a time did not avoid it here (geth v1.13.15: the
first signer's block 1 reached no peer until another signer sealed one), so a network
checks that its signers agree on a few blocks and starts a fresh chain again if they do
not (:meth:`node.network.consortium.Consortium.up`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from node.network.geth import GethNode

#: polling interval while waiting for the signers to agree on a block
_POLL = 0.1


def agreed_hash(geths: Sequence[GethNode], number: int) -> str | None:
    """The hash every geth holds at block ``number``, or None if one lacks it or they
    differ."""
    hashes = set()
    for geth in geths:
        block = geth.rpc("eth_getBlockByNumber", [hex(number), False])
        if block is None:
            return None
        hashes.add(block["hash"])
    return hashes.pop() if len(hashes) == 1 else None


def wait_for_agreed_block(geths: Sequence[GethNode], number: int, timeout: float) -> bool:
    """Whether every geth holds the same block ``number`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while agreed_hash(geths, number) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL)
    return True
