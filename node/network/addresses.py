"""The consortium's address range: where engines bind and the only peers they may reach."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, ip_address
from typing import Final

LOOPBACK: Final = IPv4Network("127.0.0.0/8")
#: On one machine a connection to any 127.0.0.x address leaves from 127.0.0.1 (the
#: loopback route's source address), so members on 127.0.0.x see each other's dials
#: coming from there. With a network namespace per member it comes from the member's own.
LOOPBACK_SOURCE: Final = IPv4Network("127.0.0.1/32")


def consortium_networks(hosts: Iterable[IPv4Address]) -> tuple[IPv4Network, ...]:
    """One /32 per member host (+ 127.0.0.1 when they share this machine's loopback):
    geth's --netrestrict and the range the auditor allows peers and listeners in."""
    networks = {IPv4Network(f"{host}/32") for host in hosts}
    if networks and all(network.subnet_of(LOOPBACK) for network in networks):
        networks.add(LOOPBACK_SOURCE)
    return tuple(sorted(networks))


def within(address: str | IPv4Address | IPv6Address, allowed: Sequence[IPv4Network]) -> bool:
    """True when ``address`` is in one of the ``allowed`` IPv4 networks."""
    parsed = ip_address(address) if isinstance(address, str) else address
    return isinstance(parsed, IPv4Address) and any(parsed in network for network in allowed)


def outside_loopback() -> list[IPv4Network]:
    """Every IPv4 network except 127.0.0.0/8: what an engine must never dial."""
    return sorted(IPv4Network("0.0.0.0/0").address_exclude(LOOPBACK))
