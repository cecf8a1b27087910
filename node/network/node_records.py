"""Signed node records: where a member's validator can be reached, vouched for by the member.

The ConsortiumRegistry says *who* the members are (their member accounts); it has no
field for *where* their validators listen (ADR 0056). A member publishes a
``docex-node-record/1``: its country, its geth enode URL, the chain id and a sequence
number, signed (EIP-191 ``personal_sign``) by its member account. A follower peers with
an enode only when its record's signer is an open member account of an active member of
that country in the registry; a suspended or removed member's records stop counting at
once, and an outsider cannot make one. The highest sequence number of a country wins,
so a member moves its validator by signing a new record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address

from ledger.registry_members import RegistryMember
from node.network.errors import NetworkError

RECORD_FORMAT: Final = "docex-node-record/1"
RECORDS_FILE: Final = "node-records.json"


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A member's signed statement of its validator's enode URL."""

    country: str
    enode: str
    chain_id: int
    seq: int
    signature: str

    def message(self) -> bytes:
        return signed_message(self.country, self.enode, self.chain_id, self.seq)

    def signer(self) -> str | None:
        """The account that signed this record, or None when the signature is unreadable."""
        try:
            recovered = Account.recover_message(
                encode_defunct(primitive=self.message()), signature=self.signature
            )
        except (ValueError, TypeError):
            return None
        return to_checksum_address(recovered)

    @property
    def node_id(self) -> str:
        """The enode's public key (hex), which identifies the node whatever its address."""
        return node_id_of(self.enode)


def node_id_of(enode: str) -> str:
    return enode.removeprefix("enode://").partition("@")[0].lower()


def signed_message(country: str, enode: str, chain_id: int, seq: int) -> bytes:
    """The bytes a member signs: canonical JSON (sorted keys, no spaces)."""
    body = {
        "chainId": chain_id,
        "country": country,
        "enode": enode,
        "format": RECORD_FORMAT,
        "seq": seq,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_node_record(
    private_key: bytes, *, country: str, enode: str, chain_id: int, seq: int = 1
) -> NodeRecord:
    signed = Account.sign_message(
        encode_defunct(primitive=signed_message(country, enode, chain_id, seq)), private_key
    )
    return NodeRecord(country, enode, chain_id, seq, "0x" + bytes(signed.signature).hex())


def listed_enodes(
    records: Iterable[NodeRecord], members: Mapping[int, RegistryMember], chain_id: int
) -> dict[str, str]:
    """Country -> enode of every active member whose newest valid record names one.

    A record counts when it is for this chain and signed by an open member account of the
    active member of its country.
    """
    accounts = {m.country: set(m.accounts) for m in members.values() if m.active}
    chosen: dict[str, NodeRecord] = {}
    for record in records:
        if record.chain_id != chain_id or record.signer() not in accounts.get(record.country, ()):
            continue
        best = chosen.get(record.country)
        if best is None or record.seq > best.seq:
            chosen[record.country] = record
    return {country: record.enode for country, record in chosen.items()}


def read_node_records(path: Path) -> list[NodeRecord]:
    """The records in a ``node-records.json`` (a JSON list); empty when there is none."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except ValueError as error:
        raise NetworkError(f"{path} is not JSON: {error}") from None
    if not isinstance(raw, list):
        raise NetworkError(f"{path} must hold a JSON list of node records")
    try:
        return [NodeRecord(**entry) for entry in raw]
    except TypeError as error:
        raise NetworkError(f"{path}: not a node record: {error}") from None


def write_node_records(path: Path, records: Sequence[NodeRecord]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps([asdict(record) for record in records], indent=2) + "\n", encoding="utf-8"
    )
    temporary.replace(path)


def add_node_record(path: Path, record: NodeRecord) -> None:
    """Add ``record`` to the file (records are public: anyone may hand one in)."""
    write_node_records(path, [*read_node_records(path), record])
