"""Restarts the node's managed anvil when it dies, on its persisted state.

``docex run`` on its embedded chain owns the anvil process: if it is killed (``kill -9``,
the OOM killer) the node starts it again on the same port and state file, so the
batcher, the indexer and the API (which retry an unreachable chain) carry on. The blocks
anvil had not yet written to its state are lost; the anchor keeper replays their
transactions from the journal (:mod:`node.issuing.anchor_keeper`).
"""

from __future__ import annotations

import logging
import threading
import time

from certificates import DocexError
from ledger import ManagedAnvil
from node.chain.restarts import ChainRestarts

_log = logging.getLogger("docex.node.chain")


def supervise_anvil(
    anvil: ManagedAnvil,
    stop: threading.Event,
    poll: float = 0.2,
    restarts: ChainRestarts | None = None,
) -> None:
    """Check every ``poll`` seconds until ``stop``; restart anvil when it has exited.

    ``restarts`` is told before each restart, so that verification does not answer from
    the index until the indexer has re-checked it against the restarted chain.
    """
    while not stop.wait(poll):
        if not anvil.exited:
            continue
        if restarts is not None:
            restarts.restarting()
        died = time.monotonic()
        _log.error("managed anvil exited; restarting it on its state", extra={"pid": anvil.pid})
        try:
            anvil.restart_if_exited()
        except DocexError as error:
            _log.error("managed anvil did not restart; retrying", extra={"error": str(error)})
            continue
        _log.warning(
            "managed anvil restarted",
            extra={"pid": anvil.pid, "seconds": round(time.monotonic() - died, 3)},
        )
