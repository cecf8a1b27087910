"""The ConsortiumRegistry's members as its own logs tell them, read with ``eth_getLogs``.

What a member's validator needs to follow governance without a docex index: which
members exist, whether each is active, suspended or gone, and which accounts hold its
member-account grant (``typeId == bytes32(0)``). :func:`fold_member_events` is the pure
fold; :func:`read_registry_members` fetches the logs from any JSON-RPC chain, and
:class:`RegistryMemberLog` keeps them, reading only the blocks after the last read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from eth_utils.address import to_checksum_address

from ledger.abi_codec import ContractAbi
from ledger.chains import Chain
from ledger.contracts import CONSORTIUM_REGISTRY, load_artifacts

#: the member-account role (``ConsortiumRegistry.MEMBER_ACCOUNT``)
MEMBER_ACCOUNT_TYPE: Final = bytes(32)
MEMBER_EVENTS: Final = (
    "MemberAdmitted",
    "MemberSuspended",
    "MemberReadmitted",
    "MemberLeft",
    "KeyAdded",
    "KeyRevoked",
)


class MemberState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class RegistryMember:
    """One member: its country, state and open member accounts, oldest grant first."""

    member_id: int
    country: str
    state: MemberState
    accounts: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.state is MemberState.ACTIVE

    @property
    def signer(self) -> str | None:
        """The account that seals for this member: its oldest open member account."""
        return self.accounts[0] if self.accounts else None


def _country(value: Any) -> str:
    if isinstance(value, bytes):
        return value[:2].decode("ascii", errors="replace")
    text = str(value)
    if text.startswith("0x"):
        return bytes.fromhex(text[2:6]).decode("ascii", errors="replace")
    return text


def _is_member_account(type_id: Any) -> bool:
    if isinstance(type_id, bytes):
        return type_id == MEMBER_ACCOUNT_TYPE
    return int(str(type_id), 16) == 0 if str(type_id).startswith("0x") else False


def fold_member_events(
    events: Iterable[tuple[str, Mapping[str, Any]]],
) -> dict[int, RegistryMember]:
    """The member set after ``events`` (name, decoded arguments), in chain order."""
    members: dict[int, RegistryMember] = {}
    states = {
        "MemberSuspended": MemberState.SUSPENDED,
        "MemberReadmitted": MemberState.ACTIVE,
        "MemberLeft": MemberState.LEFT,
    }
    for name, arguments in events:
        member_id = int(arguments["memberId"])
        if name == "MemberAdmitted":
            members[member_id] = RegistryMember(
                member_id, _country(arguments["country"]), MemberState.ACTIVE
            )
            continue
        member = members.get(member_id)
        if member is None:
            continue
        if name in states:
            members[member_id] = replace(member, state=states[name])
        elif _is_member_account(arguments["typeId"]):
            account = to_checksum_address(arguments["account"])
            kept = tuple(a for a in member.accounts if a != account)
            members[member_id] = replace(
                member, accounts=(*kept, account) if name == "KeyAdded" else kept
            )
    return members


def _registry_abi() -> ContractAbi:
    return load_artifacts()[CONSORTIUM_REGISTRY].abi


def read_registry_members(
    chain: Chain, registry: str, *, from_block: int = 0, abi: ContractAbi | None = None
) -> dict[int, RegistryMember] | None:
    """The members the registry at ``registry`` holds at the chain's head; None while the
    chain has no contract there (a node still syncing, or another chain)."""
    return RegistryMemberLog(chain, registry, from_block=from_block, abi=abi).members()


class RegistryMemberLog:
    """The registry's member events, read again only from the block after the last read.

    A member's validator follows governance every second. Reading every member event
    from the registry's deployment each time asked the chain to search a range that grows
    with its age. Each read now asks for the blocks after the last one read, once that
    block still has the hash it had (a block's hash commits to every block below it); a
    chain that no longer has it (a reorg, a reset) is read again from ``from_block``.
    """

    def __init__(
        self,
        chain: Chain,
        registry: str,
        *,
        from_block: int = 0,
        abi: ContractAbi | None = None,
    ) -> None:
        self.chain = chain
        self.registry = registry
        self.from_block = from_block
        self._abi = abi or _registry_abi()
        self._topics = ["0x" + self._abi.events[name].topic0.hex() for name in MEMBER_EVENTS]
        self._events: list[tuple[str, Mapping[str, Any]]] = []
        #: the last block read: (number, hash)
        self._through: tuple[int, str] | None = None

    def members(self) -> dict[int, RegistryMember] | None:
        """The member set at the chain's head; None while the chain has no registry."""
        head = self.chain.request("eth_getBlockByNumber", ["latest", False])
        number, block_hash = int(head["number"], 16), str(head["hash"])
        if self.chain.request("eth_getCode", [self.registry, hex(number)]) in ("0x", "", None):
            self._forget()
            return None
        if self._through is not None and not self._still_canonical(*self._through):
            self._forget()
        start = self.from_block if self._through is None else self._through[0] + 1
        if start <= number:
            self._events.extend(self._read(start, number))
        self._through = (number, block_hash)
        return fold_member_events(self._events)

    def _still_canonical(self, number: int, block_hash: str) -> bool:
        block = self.chain.request("eth_getBlockByNumber", [hex(number), False])
        return block is not None and str(block["hash"]) == block_hash

    def _forget(self) -> None:
        self._events, self._through = [], None

    def _read(self, start: int, end: int) -> list[tuple[str, Mapping[str, Any]]]:
        logs = self.chain.request(
            "eth_getLogs",
            [
                {
                    "address": self.registry,
                    "fromBlock": hex(start),
                    "toBlock": hex(end),
                    "topics": [self._topics],
                }
            ],
        )
        ordered = sorted(
            logs, key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16))
        )
        events: list[tuple[str, Mapping[str, Any]]] = []
        for log in ordered:
            if log.get("removed"):
                continue
            raw_topics = [bytes.fromhex(str(t)[2:]) for t in log["topics"]]
            data = bytes.fromhex(str(log["data"])[2:])
            codec = self._abi.event_of(raw_topics, data)
            if codec is not None and codec.name in MEMBER_EVENTS:
                events.append((codec.name, codec.decode(raw_topics, data)))
        return events
