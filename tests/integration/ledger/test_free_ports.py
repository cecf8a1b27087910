"""Ports picked for the processes a node or a network starts: never the same one twice."""

from __future__ import annotations

import socket

from ledger.chains import find_free_ports


def test_ports_picked_together_are_different_and_free_on_their_host() -> None:
    for _ in range(50):
        ports = find_free_ports(6, "127.0.0.1")
        assert len(set(ports)) == 6
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind(("127.0.0.1", port))  # free: nothing kept it
