"""A member's node on `docex network` is configured by its settings file only: production
profile, its own address, its own geth as chain and its own Kubo as content store, the
other members' nodes as peers; nothing from the shell's ``DOCEX_*``, and nothing the
demo's extra settings pass can move it off its member's parts."""

from __future__ import annotations

from ipaddress import IPv4Address
from pathlib import Path

import pytest

from node.backend_kinds import ChainKind, Profile, StoreKind
from node.network import member_node
from node.settings import NodeSettings

HOST = IPv4Address("127.0.0.3")


def kr_settings(**extra: object) -> dict[str, object]:
    return member_node.node_settings(
        node_dir=Path("/srv/network/KR/node"),
        country="KR",
        host=HOST,
        port=8123,
        rpc_url="http://127.0.0.3:8545",
        kubo_url="http://127.0.0.3:5001",
        peers={"VN": "http://127.0.0.2:8123"},
        extra=extra,
    )


def test_a_members_node_settings_are_production_shaped_and_its_own() -> None:
    settings = NodeSettings.model_validate(kr_settings())

    assert settings.profile is Profile.PRODUCTION
    assert settings.refused_in_production() == []
    assert (settings.chain, settings.rpc_url) == (ChainKind.RPC, "http://127.0.0.3:8545")
    assert (settings.content_store, settings.kubo_url) == (StoreKind.KUBO, "http://127.0.0.3:5001")
    assert (settings.host, settings.port) == ("127.0.0.3", 8123)
    assert settings.base_url == "http://127.0.0.3:8123"
    assert settings.peer_gateways == {"VN": "http://127.0.0.2:8123"}
    assert settings.keys_dir == Path("/srv/network/KR/node/keys")


def test_extra_settings_tune_the_node_but_cannot_move_it() -> None:
    tuned = kr_settings(
        batch_max_latency_ms=200, host="0.0.0.0", content_store="embedded", dev_consortium=True
    )

    assert tuned["batch_max_latency_ms"] == 200
    assert (tuned["host"], tuned["content_store"], tuned["dev_consortium"]) == (
        "127.0.0.3",
        "kubo",
        False,
    )


def test_the_node_inherits_no_docex_setting_of_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCEX_CHAIN", "anvil")
    monkeypatch.setenv("DOCEX_DEV_CONSORTIUM", "true")

    environment = member_node.node_environment()

    assert not [key for key in environment if key.startswith("DOCEX_")]
    assert "PATH" in environment
