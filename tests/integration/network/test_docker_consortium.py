"""`docex network docker`: what can be checked without a Docker engine (none runs here).

The generated QBFT genesis, Besu allowlists, compose file, registry configuration and
Kubo/Cluster settings parse, and they all name the same members: each member's Besu node
key is its QBFT validator and its registry member account.
"""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
import yaml
from eth_account import Account
from eth_keys.datatypes import PublicKey
from typer.testing import CliRunner

from certificates.keystore import decrypt_keystore
from ledger.deploy import load_config
from node.network.cli import network_app
from node.network.consortium import LIGHT_SCRYPT_N
from node.network.docker_consortium import (
    QBFT_MIX_HASH,
    libp2p_identity,
    qbft_extra_data,
    qbft_validators,
    write_docker_consortium,
)
from node.network.members import DEFAULT_COUNTRIES

ACCOUNTS = [Account.create().address for _ in range(4)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docker") / "generated"
    result = CliRunner().invoke(network_app, ["docker", "--out", str(out), "--light-kdf"])
    assert result.exit_code == 0, result.output
    return out


def validators_of(out: Path) -> list[str]:
    genesis = json.loads((out / "genesis.json").read_text())
    return qbft_validators(bytes.fromhex(genesis["extraData"][2:]))


def test_the_qbft_extra_data_is_the_rlp_besu_reads() -> None:
    extra = qbft_extra_data(ACCOUNTS)
    # list(32 zero bytes, list(4 x 20-byte addresses), empty vote, round 0, no seals)
    assert extra.startswith(bytes.fromhex("f87aa0") + bytes(32) + bytes.fromhex("f854"))
    assert extra[-3:] == bytes.fromhex("c080c0")
    assert qbft_validators(extra) == sorted(ACCOUNTS, key=lambda a: bytes.fromhex(a[2:]))
    with pytest.raises(ValueError, match="distinct"):
        qbft_extra_data([ACCOUNTS[0], ACCOUNTS[0]])


def test_the_genesis_lists_the_four_validators_and_funds_them(generated: Path) -> None:
    genesis = json.loads((generated / "genesis.json").read_text())
    config = load_config(generated / "consortium.json")
    accounts = {m.account for m in config.members}
    assert [m.country for m in config.members] == list(DEFAULT_COUNTRIES)
    assert len(validators_of(generated)) == 4
    assert set(validators_of(generated)) == accounts
    assert genesis["mixHash"] == QBFT_MIX_HASH
    assert genesis["config"]["qbft"]["blockperiodseconds"] == 2
    assert "shanghaiTime" not in genesis["config"]  # London-level: contracts for paris
    funded = {"0x" + address for address in genesis["alloc"]}
    assert {a.lower() for a in accounts} <= funded


def test_the_allowlists_are_the_registry_members_and_nothing_else(generated: Path) -> None:
    permissions = tomllib.loads((generated / "permissions_config.toml").read_text())
    config = load_config(generated / "consortium.json")
    issuers = {k.account for m in config.members for k in m.issuer_keys}
    assert set(permissions["accounts-allowlist"]) == {m.account for m in config.members} | issuers
    nodes = permissions["nodes-allowlist"]
    assert len(nodes) == 4
    assert json.loads((generated / "static-nodes.json").read_text()) == nodes
    # an enode's public key is the member account's: the allowlist proves itself
    from_enodes = {PublicKey(bytes.fromhex(enode[8:136])).to_checksum_address() for enode in nodes}
    assert from_enodes == {m.account for m in config.members}


def test_each_member_holds_its_own_keys_privately(generated: Path) -> None:
    config = load_config(generated / "consortium.json")
    for member in config.members:
        folder = generated / member.country
        for secret in ("besu.key", "issuer.key", "postgres.password", "node.toml"):
            assert stat.S_IMODE((folder / secret).stat().st_mode) == 0o600
        keystore = folder / "keys" / f"{member.country}-member.json"
        passphrase = (folder / "keys" / f"{member.country}-member.passphrase").read_text()
        key = decrypt_keystore(json.loads(keystore.read_text()), passphrase.strip())
        # the member account the registry lists is the Besu node key's
        assert Account.from_key(key).address == member.account
        assert (folder / "besu.key").read_text().strip() == "0x" + key.hex()
        settings = tomllib.loads((folder / "node.toml").read_text())
        assert settings["country"] == member.country
        assert settings["database_url"].startswith("postgresql://docex:")


def test_the_compose_file_runs_every_part_per_member_on_a_closed_network(
    generated: Path,
) -> None:
    compose = yaml.safe_load((generated / "compose.yaml").read_text())
    services = compose["services"]
    countries = [c.lower() for c in DEFAULT_COUNTRIES]
    assert set(services) == {
        f"{kind}-{cc}"
        for cc in countries
        for kind in ("besu", "ipfs", "cluster", "postgres", "docex")
    }
    assert compose["networks"]["consortium"]["internal"] is True
    addresses = [s["networks"]["consortium"]["ipv4_address"] for s in services.values()]
    assert len(set(addresses)) == len(addresses)
    for name, service in services.items():
        # nothing published but the docex API, on the host's loopback
        for port in service.get("ports", []):
            assert name.startswith("docex-")
            assert port.startswith("127.0.0.1:")
    enodes = tomllib.loads((generated / "permissions_config.toml").read_text())["nodes-allowlist"]
    for cc, enode in zip(countries, enodes, strict=True):
        besu = services[f"besu-{cc}"]
        assert "--discovery-enabled=false" in besu["command"]
        assert "--permissions-nodes-config-file-enabled" in besu["command"]
        assert enode.endswith(f"@{besu['networks']['consortium']['ipv4_address']}:30303")
        assert services[f"docex-{cc}"]["build"]["dockerfile"] == "docker/Dockerfile"
    # the Cluster peers trust each other only, by the identities each member holds
    trusted = services["cluster-vn"]["environment"]["CLUSTER_CRDT_TRUSTEDPEERS"].split(",")
    for country in DEFAULT_COUNTRIES:
        identity = json.loads((generated / country / "cluster-identity.json").read_text())
        assert identity["id"] in trusted
    assert "CLUSTER_SECRET" not in json.dumps(services)
    assert (Path(__file__).parents[3] / "docker" / "Dockerfile").is_file()


def test_kubo_is_closed_to_everything_but_the_consortium_subnet(generated: Path) -> None:
    script = (generated / "VN" / "kubo-init.sh").read_text()
    assert "ipfs config --json Bootstrap '[]'" in script
    assert """ipfs config --json Routing.Type '"none"'""" in script
    assert "/ip4/172.30.0.0/ipcidr/24" not in script  # its own subnet is not filtered
    assert "/ip4/0.0.0.0/ipcidr/1" in script


def test_running_again_keeps_every_members_keys(generated: Path) -> None:
    before = validators_of(generated)
    write_docker_consortium(generated, scrypt_n=LIGHT_SCRYPT_N)
    assert validators_of(generated) == before


def test_a_libp2p_identity_is_an_ed25519_peer_id() -> None:
    peer_id, private = libp2p_identity(bytes(range(32)))
    assert peer_id.startswith("12D3KooW")
    assert len(private) == 92  # base64 of the 68-byte protobuf
