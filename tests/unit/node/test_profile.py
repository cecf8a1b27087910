"""The profile setting: production refuses what is made for development and tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import InvalidSettings
from node.settings import load_settings

RPC = {"chain": "rpc", "rpc_url": "http://127.0.0.1:8545", "dev_consortium": False}


def test_a_production_node_on_a_real_chain_starts(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, profile="production", **RPC)
    assert settings.refused_in_production() == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"dev_consortium": True}, "DOCEX_DEV_CONSORTIUM=false"),
        ({"chain": "anvil", "rpc_url": None}, "managed anvil"),
        ({"chain": "eth-tester", "rpc_url": None}, "eth-tester"),
        ({"join_from": Path("elsewhere")}, "DOCEX_JOIN_FROM"),
        ({"test_crash_at": "sent:1"}, "crash hook"),
    ],
)
def test_production_refuses_each_dev_or_test_part_by_name(
    tmp_path: Path, overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidSettings, match="profile = production refuses") as raised:
        load_settings(data_dir=tmp_path, profile="production", **{**RPC, **overrides})
    assert named in str(raised.value)


def test_the_defaults_are_the_dev_profile_and_production_refuses_them(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).profile == "dev"
    with pytest.raises(InvalidSettings) as raised:
        load_settings(data_dir=tmp_path, profile="production")
    assert "dev consortium" in str(raised.value)
    assert "managed anvil" in str(raised.value)


def test_the_crash_hook_needs_the_test_profile(tmp_path: Path) -> None:
    with pytest.raises(InvalidSettings, match="needs profile = test"):
        load_settings(data_dir=tmp_path, test_crash_at="sent:1")
    settings = load_settings(data_dir=tmp_path, profile="test", test_crash_at="sent:1")
    assert settings.test_crash_at == "sent:1"
