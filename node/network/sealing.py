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

A stalled start is told early: no signer's head moves at all (a healthy chain makes a
block every period). Waiting the whole start-up timeout (33 s) for each stalled attempt
was most of the time a network took to come up when it stalled, and three stalls in a
row (seen in ten starts on a quiet machine) failed the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

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


def wait_for_agreed_block(
    geths: Sequence[GethNode],
    number: int,
    timeout: float,
    *,
    stalled_after: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Whether every geth holds the same block ``number`` within ``timeout`` seconds.
    With ``stalled_after``, False as soon as no geth's head has moved for that long."""
    started = clock()
    highest, moved_at = -1, started
    while agreed_hash(geths, number) is None:
        now = clock()
        if now - started > timeout:
            return False
        if stalled_after is not None:
            head = max(geth.block_number() for geth in geths)
            if head > highest:
                highest, moved_at = head, now
            elif now - moved_at > stalled_after:
                return False
        sleep(_POLL)
    return True


def stall_seconds(block_period: int) -> float:
    """How long no head may move before a starting Clique chain counts as stalled."""
    return max(10.0, 5.0 * block_period)
