"""DocumentRegistry logs as any Ethereum client returns them, decoded without an index.

What an auditor's re-check needs from the chain alone (``eth_getLogs``,
``eth_getTransactionReceipt``): decode one raw log of the DocumentRegistry into its event
name and arguments, complete an anonymous ``BatchAnchored`` with its route (issuer,
member, country, type, addressees) from the route's ``RouteRegistered`` log, and the
``eth_getLogs`` filters that find a document's events and a route's registration.

Arguments come out in one JSON form (:func:`readable_arguments`), the same whether they
were decoded here or read back from the node's index: bytes as lower-case ``0x`` hex,
addresses lower-case, the contracts' ``bytes2`` country codes as two letters
(``"KR"``), ``BatchAnchored`` as the indexer completes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from certificates.hashes import to_hex
from ledger.abi_codec import ContractAbi
from ledger.indexer import split_route_and_count

#: the events of one document (its target hash is their first indexed argument)
DOCUMENT_EVENTS: Final = (
    "DocumentRevoked",
    "DocumentSuperseded",
    "DocumentUsed",
    "DocumentRejected",
)
#: arguments holding an ISO 3166-1 alpha-2 code as ``bytes2``
_COUNTRY_ARGUMENTS: Final = frozenset({"issuerCountry", "userCountry", "rejecterCountry"})


@dataclass(frozen=True, slots=True)
class RegistryLog:
    """One decoded DocumentRegistry log and where the chain holds it."""

    address: str
    name: str
    #: arguments in :func:`readable_arguments` form (``BatchAnchored``: root,
    #: routeAndCount only, until :func:`anchor_arguments` completes it)
    arguments: dict[str, Any]
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str


def _country(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace")
    if isinstance(value, str) and value.startswith("0x") and len(value) == 6:
        try:
            return bytes.fromhex(value[2:]).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            return value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return to_hex(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str) and value.startswith("0x"):
        return value.lower()
    return value


def readable_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Event arguments in the one JSON form reports and re-checks compare."""
    readable: dict[str, Any] = {}
    for name, value in arguments.items():
        if name in _COUNTRY_ARGUMENTS:
            readable[name] = _country(value)
        elif name == "addressees" and isinstance(value, list | tuple):
            readable[name] = [_country(item) for item in value]
        else:
            readable[name] = _plain(value)
    return readable


class RegistryLogDecoder:
    """Decodes raw JSON-RPC logs of one DocumentRegistry (by its ABI)."""

    def __init__(self, abi: ContractAbi, address: str) -> None:
        self.abi = abi
        self.address = address.lower()

    def decode(self, log: Mapping[str, Any]) -> RegistryLog | None:
        """The event a raw log is, or None for a log of another contract or shape."""
        if str(log.get("address", "")).lower() != self.address or log.get("removed"):
            return None
        topics = [bytes.fromhex(str(t)[2:]) for t in log.get("topics", ())]
        data = bytes.fromhex(str(log.get("data", "0x"))[2:])
        codec = self.abi.event_of(topics, data)
        if codec is None:
            return None
        return RegistryLog(
            address=self.address,
            name=codec.name,
            arguments=readable_arguments(codec.decode(topics, data)),
            block_number=int(str(log["blockNumber"]), 16),
            block_hash=str(log["blockHash"]).lower(),
            log_index=int(str(log["logIndex"]), 16),
            tx_hash=str(log["transactionHash"]).lower(),
        )

    def topic(self, event: str) -> str:
        return to_hex(self.abi.events[event].topic0)

    def document_events_filter(
        self, target_hashes: Sequence[str], from_block: int, to_block: int
    ) -> dict[str, Any]:
        """``eth_getLogs`` parameters: every revocation, supersession, use and rejection of
        the documents ``target_hashes`` (``0x`` hex) in the block range."""
        return {
            "address": self.address,
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
            "topics": [
                [self.topic(name) for name in DOCUMENT_EVENTS],
                [target.lower() for target in target_hashes],
            ],
        }

    def route_filter(self, route_id: int, from_block: int, to_block: int) -> dict[str, Any]:
        """``eth_getLogs`` parameters: the ``RouteRegistered`` log of route ``route_id``."""
        return {
            "address": self.address,
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block),
            "topics": [self.topic("RouteRegistered"), "0x" + route_id.to_bytes(32, "big").hex()],
        }


def anchor_arguments(anchored: RegistryLog, route: RegistryLog) -> dict[str, Any]:
    """A ``BatchAnchored``'s arguments completed with its route, as the index holds them."""
    route_id, count = split_route_and_count(int(anchored.arguments["routeAndCount"]))
    a = route.arguments
    return {
        "root": anchored.arguments["root"],
        "routeId": route_id,
        "documentCount": count,
        "issuer": str(a["issuer"]).lower(),
        "issuerMember": a["issuerMember"],
        "issuerCountry": a["issuerCountry"],
        "typeId": a["typeId"],
        "documentType": a["documentType"],
        "addressees": list(a["addressees"]),
    }


def find_log(
    decoder: RegistryLogDecoder, logs: Sequence[Mapping[str, Any]], log_index: int
) -> tuple[Mapping[str, Any] | None, RegistryLog | None]:
    """The raw log at ``log_index`` among a receipt's ``logs``, and its decoding."""
    for log in logs:
        index = log.get("logIndex")
        if isinstance(index, str) and int(index, 16) == log_index:
            return log, decoder.decode(log)
    return None, None
