"""Kubo peers in the consortium's private swarm: bitswap between members, outsiders shut out."""

from __future__ import annotations

import time
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from adapters.content.kubo import KuboContentStore
from adapters.errors import KuboError
from node.network import NetworkError, PidFile, audit_kubo_node, new_swarm_secret

from .conftest import KuboSwarm, start_kubo


def test_members_fetch_each_others_blocks_by_cid_over_bitswap(kubo_pair: KuboSwarm) -> None:
    first, second = kubo_pair.nodes
    assert second.as_peer().peer_id in first.connected_peers()
    with (
        KuboContentStore(first.api_url, timeout_seconds=20) as at_first,
        KuboContentStore(second.api_url, timeout_seconds=20) as at_second,
    ):
        issued_by_first = at_first.put(b"certificate of origin VN-2026-000123 " * 2000)
        issued_by_second = at_second.put(b"phytosanitary certificate TH-2026-77")
        assert not at_second.has(issued_by_first)
        # no DHT, no gateway: the only way these bytes can arrive is bitswap from the peer
        assert at_second.get(issued_by_first) == b"certificate of origin VN-2026-000123 " * 2000
        assert at_first.get(issued_by_second) == b"phytosanitary certificate TH-2026-77"
        assert at_second.has(issued_by_first)


def test_a_kubo_with_another_swarm_key_cannot_connect(
    kubo_pair: KuboSwarm, tmp_path: Path, pid_file: PidFile
) -> None:
    member = kubo_pair.nodes[0]
    outsider = start_kubo(tmp_path, "outsider", "127.0.0.9", new_swarm_secret(), pid_file)
    outsider.configure([member.as_peer()])
    outsider.start()
    try:
        own_range = (*kubo_pair.allowed, IPv4Network(f"{outsider.host}/32"))
        assert audit_kubo_node(outsider, own_range) == []
        with pytest.raises(NetworkError):
            outsider.connect(member.as_peer())
        with pytest.raises(NetworkError):
            member.connect(outsider.as_peer())
        time.sleep(0.5)
        assert outsider.as_peer().peer_id not in member.connected_peers()
        assert member.as_peer().peer_id not in outsider.connected_peers()
        with KuboContentStore(member.api_url) as at_member:
            secret = at_member.put(b"only for the consortium")
        with KuboContentStore(outsider.api_url, timeout_seconds=3) as at_outsider:
            assert not at_outsider.has(secret)
            with pytest.raises(KuboError, match="Timeout"):
                at_outsider.get(secret)
    finally:
        outsider.stop()
