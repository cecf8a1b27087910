"""Governance drives the validator set: a member's geth follows the ConsortiumRegistry.

Each member runs one follower next to its own geth (over geth's IPC socket). A pass reads
the registry's members from the chain's logs and reconciles the geth with them:

- **Clique votes.** The signers wanted are the open member accounts of the active
  members. A wanted account that does not sign yet gets this member's ``clique_propose
  (account, true)``; a signer no longer wanted (suspended, left, its account revoked) gets
  ``false``. Votes already satisfied or no longer wanted are discarded. Clique adds or
  drops a signer once more than half of the signers voted so, which happens within a few
  blocks when every member runs its follower.
- **Peers.** geth accepts inbound peers only from trusted nodes (``DialRatio = 1``, see
  :func:`node.network.geth.static_nodes_toml`). The follower makes trusted and static
  exactly the enodes of active members' signed node records (ADR 0056), and removes every
  other peer, connected or recorded. Without any node record it leaves peers alone.

Until the geth holds the registry (a new member's node still syncing) a pass does
nothing: the peers configured at start-up stay, so the node can sync.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from certificates.errors import DocexError
from ledger.chains import Chain
from ledger.registry_members import RegistryMember, RegistryMemberLog
from node.network.node_records import NodeRecord, listed_enodes, node_id_of

_log = logging.getLogger("docex.network.signer_follower")


@dataclass(frozen=True, slots=True)
class FollowerPass:
    """What one pass saw and did."""

    members: tuple[RegistryMember, ...]
    wanted_signers: tuple[str, ...]
    signers: tuple[str, ...]
    votes: tuple[tuple[str, bool], ...]
    discarded: tuple[str, ...]
    listed_peers: tuple[str, ...]
    #: node ids of connected peers this pass disconnected (not listed by the registry)
    removed_peers: tuple[str, ...]


def wanted_signers(members: Sequence[RegistryMember]) -> set[str]:
    return {m.signer for m in members if m.active and m.signer is not None}


def plan_votes(
    wanted: set[str], signers: set[str], proposals: dict[str, bool]
) -> tuple[list[str], list[tuple[str, bool]]]:
    """The proposals to discard, then the votes to cast, so that signers become wanted."""
    discard = sorted(
        account
        for account, authorize in proposals.items()
        if (authorize and (account in signers or account not in wanted))
        or (not authorize and (account not in signers or account in wanted))
    )
    votes = [(a, True) for a in sorted(wanted - signers) if proposals.get(a) is not True]
    votes += [(a, False) for a in sorted(signers - wanted) if proposals.get(a) is not False]
    return discard, votes


class SignerFollower:
    """Reconciles one member's geth (``geth``: its IPC client) with the registry."""

    def __init__(
        self,
        geth: Chain,
        registry: str,
        records: Callable[[], Sequence[NodeRecord]],
        *,
        from_block: int = 0,
        name: str = "geth",
    ) -> None:
        self.geth = geth
        self.registry = registry
        self.records = records
        self.from_block = from_block
        self.name = name
        #: the registry's member events, read incrementally pass after pass
        self._member_log = RegistryMemberLog(geth, registry, from_block=from_block)

    def reconcile(self) -> FollowerPass | None:
        """One pass; None while the geth does not hold the registry yet."""
        read = self._member_log.members()
        if read is None:
            return None
        members = tuple(read.values())
        wanted = wanted_signers(members)
        signers = {str(to_checksum_address(a)) for a in self.geth.request("clique_getSigners")}
        proposals = {
            str(to_checksum_address(a)): bool(v)
            for a, v in (self.geth.request("clique_proposals") or {}).items()
        }
        discard, votes = plan_votes(wanted, signers, proposals)
        for account in discard:
            self.geth.request("clique_discard", [account])
        for account, authorize in votes:
            self.geth.request("clique_propose", [account, authorize])
        listed, removed = self._reconcile_peers(read)
        result = FollowerPass(
            members=members,
            wanted_signers=tuple(sorted(wanted)),
            signers=tuple(sorted(signers)),
            votes=tuple(votes),
            discarded=tuple(discard),
            listed_peers=tuple(sorted(listed)),
            removed_peers=tuple(sorted(removed)),
        )
        if votes or removed:
            _log.info(
                "validator set follows the registry",
                extra={"geth": self.name, "votes": votes, "removed_peers": sorted(removed)},
            )
        return result

    def _reconcile_peers(self, members: dict[int, RegistryMember]) -> tuple[list[str], list[str]]:
        """Trust and dial the listed enodes, drop every other: (listed, dropped while
        connected)."""
        records = list(self.records())
        if not records:
            return [], []
        own = node_id_of(str(self.geth.request("admin_nodeInfo")["enode"]))
        listed = {
            node_id_of(enode): enode
            for enode in listed_enodes(records, members, self.geth.chain_id).values()
        }
        listed.pop(own, None)
        for enode in listed.values():
            # trusted first: a member's dial in is then accepted even before ours succeeds
            self.geth.request("admin_addTrustedPeer", [enode])
            self.geth.request("admin_addPeer", [enode])
        known = {record.node_id: record.enode for record in records}
        connected = set()
        for peer in self.geth.request("admin_peers") or []:
            node_id = node_id_of(str(peer["enode"]))
            connected.add(node_id)
            known.setdefault(node_id, str(peer["enode"]))
        unlisted = [node_id for node_id in known if node_id not in listed and node_id != own]
        for node_id in unlisted:
            self.geth.request("admin_removeTrustedPeer", [known[node_id]])
            self.geth.request("admin_removePeer", [known[node_id]])
        return list(listed.values()), sorted(connected.intersection(unlisted))

    def run(self, stop: threading.Event, poll: float = 1.0) -> None:
        """Reconcile every ``poll`` seconds until ``stop``; a geth that does not answer is
        retried on the next pass."""
        while not stop.is_set():
            try:
                self.reconcile()
            except DocexError as error:
                _log.warning("signer follower will retry", extra={"error": str(error)})
            except Exception:
                _log.exception("signer follower failed; retrying")
            stop.wait(poll)
