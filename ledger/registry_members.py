"""The ConsortiumRegistry's members as its own logs tell them, read with ``eth_getLogs``.

What a member's validator needs to follow governance without a docex index: which
members exist, whether each is active, suspended or gone, and which accounts hold its
member-account grant (``typeId == bytes32(0)``). :func:`fold_member_events` is the pure
fold; :func:`read_registry_members` fetches the logs from any JSON-RPC chain.
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
    head = int(chain.request("eth_blockNumber"), 16)
    if chain.request("eth_getCode", [registry, hex(head)]) in ("0x", "", None):
        return None
    abi = abi or _registry_abi()
    topics = [abi.events[name].topic0.hex() for name in MEMBER_EVENTS]
    logs = chain.request(
        "eth_getLogs",
        [
            {
                "address": registry,
                "fromBlock": hex(from_block),
                "toBlock": hex(head),
                "topics": [["0x" + topic for topic in topics]],
            }
        ],
    )
    ordered = sorted(logs, key=lambda log: (int(log["blockNumber"], 16), int(log["logIndex"], 16)))
    events = []
    for log in ordered:
        if log.get("removed"):
            continue
        raw_topics = [bytes.fromhex(str(t)[2:]) for t in log["topics"]]
        data = bytes.fromhex(str(log["data"])[2:])
        codec = abi.event_of(raw_topics, data)
        if codec is not None and codec.name in MEMBER_EVENTS:
            events.append((codec.name, codec.decode(raw_topics, data)))
    return fold_member_events(events)
