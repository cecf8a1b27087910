"""A production-shaped consortium for Docker Compose, from the members of `docex network`.

Per member: a Hyperledger Besu QBFT validator, Kubo with an IPFS Cluster peer, a
PostgreSQL database and a docex node. Everything is generated from the same member data
as `docex network` (countries, names, chain id) and the members' public keys:

- **One key per member is its Besu node key, its QBFT validator and its registry member
  account** (as on geth, where the signer is the member account, ADR 0056). On Besu the
  enode's public key *is* the member account's, so the allowlist needs no signed record.
- ``genesis.json``: QBFT, London-level (contracts for ``paris``), ``extraData`` =
  RLP([32 zero bytes, [validators], [], 0, []]); members' accounts funded.
- ``permissions_config.toml``: ``nodes-allowlist`` = the members' enodes,
  ``accounts-allowlist`` = their member and issuer accounts (the same the registry's
  genesis lists, ``consortium.json``).
- ``compose.yaml``: a private bridge network with one fixed address per member host;
  nothing published but each docex node's API on the host's loopback.

Keys are made once under ``<out>/<CC>/`` (mode 0600) and reused when the generator runs
again; in a real consortium each member makes its own and hands in only public keys.
Nothing here has been run: no Docker engine runs where docex is developed (docker/README.md).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Any, Final

import rlp  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account
from eth_keys.datatypes import PrivateKey, PublicKey
from eth_utils.address import to_canonical_address, to_checksum_address

from node.network.genesis import FORKS_AT_ZERO
from node.network.kubo import closed_kubo_config
from node.network.members import DEFAULT_CHAIN_ID, DEFAULT_COUNTRIES, MEMBER_NAMES
from node.network.private_files import write_private

#: pinned images (what docker/README.md names); the docex node is built from this tree
BESU_IMAGE: Final = "hyperledger/besu:24.12.2"
KUBO_IMAGE: Final = "ipfs/kubo:v0.43.1"
CLUSTER_IMAGE: Final = "ipfs/ipfs-cluster:v1.1.6"
POSTGRES_IMAGE: Final = "postgres:16.6"
SUBNET: Final = IPv4Network("172.30.0.0/24")
P2P_PORT: Final = 30303
#: Besu's QBFT genesis mixHash ("ctical byzantine fault tolerance")
QBFT_MIX_HASH: Final = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
_FUNDING_WEI: Final = 10**24
_B58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class DockerMember:
    """One member host's public data."""

    country: str
    name: str
    address: IPv4Address
    #: uncompressed secp256k1 public key (64 bytes) of its Besu node key = member account
    node_public_key: bytes
    issuer: str
    cluster_peer_id: str

    @property
    def host(self) -> str:
        return self.country.lower()

    @property
    def account(self) -> str:
        return str(PublicKey(self.node_public_key).to_checksum_address())

    @property
    def enode(self) -> str:
        return f"enode://{self.node_public_key.hex()}@{self.address}:{P2P_PORT}"


# -- QBFT genesis -------------------------------------------------------------------------


def qbft_extra_data(validators: Sequence[str]) -> bytes:
    """RLP([32-byte vanity, [validators, ascending], [] (no vote), 0 (round), [] (seals)])."""
    canonical = sorted({to_canonical_address(v) for v in validators})
    if len(canonical) != len(validators) or not canonical:
        raise ValueError("QBFT needs one or more distinct validators")
    encoded: bytes = rlp.encode([bytes(32), canonical, [], b"", []])
    return encoded


def qbft_validators(extra_data: bytes) -> list[str]:
    """The validators an ``extraData`` lists (the inverse of :func:`qbft_extra_data`)."""
    decoded = rlp.decode(extra_data)
    return [to_checksum_address(bytes(v)) for v in decoded[1]]


def qbft_genesis(
    *, chain_id: int, validators: Sequence[str], alloc: Mapping[str, int], block_period: int = 2
) -> dict[str, Any]:
    config: dict[str, Any] = {"chainId": chain_id}
    config.update(dict.fromkeys(FORKS_AT_ZERO, 0))  # as geth's Clique
    config["qbft"] = {
        "blockperiodseconds": block_period,
        "epochlength": 30_000,
        "requesttimeoutseconds": 2 * block_period + 2,
    }
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(30_000_000),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + bytes(20).hex(),
        "extraData": "0x" + qbft_extra_data(validators).hex(),
        "alloc": {
            to_checksum_address(a)[2:].lower(): {"balance": hex(wei)} for a, wei in alloc.items()
        },
    }


def permissions_toml(members: Sequence[DockerMember]) -> str:
    """Besu's local permissioning: the members' validators and accounts, nothing else."""
    nodes = ", ".join(json.dumps(m.enode) for m in members)
    accounts = ", ".join(json.dumps(a) for m in members for a in (m.account, m.issuer))
    return f"nodes-allowlist = [{nodes}]\naccounts-allowlist = [{accounts}]\n"


def consortium_config(members: Sequence[DockerMember]) -> dict[str, Any]:
    """``docex chain deploy``'s configuration: the registry's first members, as Besu's."""
    return {
        "quorum_fraction": [1, 2],
        "members": [
            {
                "country": m.country,
                "name": m.name,
                "account": m.account,
                "issuer_keys": [{"account": m.issuer, "document_type": "coo/1"}],
            }
            for m in members
        ],
    }


# -- IPFS -------------------------------------------------------------------------------


def _base58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    text = ""
    while number:
        number, digit = divmod(number, 58)
        text = _B58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def libp2p_identity(seed: bytes) -> tuple[str, str]:
    """(peer id, base64 private key) of an Ed25519 libp2p identity, as IPFS Cluster's
    ``identity.json`` holds it."""
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public_proto = b"\x08\x01\x12\x20" + public  # KeyType Ed25519, 32 bytes
    private_proto = b"\x08\x01\x12\x40" + seed + public
    peer_id = _base58(b"\x00" + bytes([len(public_proto)]) + public_proto)  # identity hash
    return peer_id, base64.b64encode(private_proto).decode("ascii")


def outside(network: IPv4Network) -> list[IPv4Network]:
    """Every IPv4 network except ``network``."""
    return sorted(IPv4Network("0.0.0.0/0").address_exclude(network))


def _flatten(value: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    leaves: list[tuple[str, Any]] = []
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            leaves += _flatten(item, path + ".")
        else:
            leaves.append((path, item))
    return leaves


def kubo_init_script(address: IPv4Address) -> str:
    """The Kubo image's /container-init.d script: the closed configuration of
    `docex network` (node/network/kubo.py), bound to the member's address."""
    closed = closed_kubo_config({}, host=address, swarm_port=4001, api_port=5001, peers=[])
    # refuse every network but the consortium's (the loopback one is for one machine)
    closed["Swarm"]["AddrFilters"] = [
        *(f"/ip4/{net.network_address}/ipcidr/{net.prefixlen}" for net in outside(SUBNET)),
        "/ip6/::/ipcidr/0",
    ]
    lines = [
        "#!/bin/sh",
        "# generated by `docex network docker`: the closed Kubo settings",
        "set -e",
    ]
    for path, value in _flatten(closed):
        lines.append(f"ipfs config --json {path} '{json.dumps(value)}'")
    return "\n".join(lines) + "\n"


# -- compose ----------------------------------------------------------------------------


def _yaml(value: Any, indent: int = 0) -> str:
    """Block YAML for dicts, lists and scalars (strings as JSON strings, valid YAML)."""
    pad = "  " * indent
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        lines = []
        for key, item in value.items():
            if isinstance(item, Mapping | list) and item:
                lines.append(f"{pad}{key}:\n{_yaml(item, indent + 1)}")
            else:
                lines.append(f"{pad}{key}: {_yaml(item)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for item in value:
            if isinstance(item, Mapping) and item:
                first, *rest = _yaml(item, indent + 1).split("\n")
                lines.append(f"{pad}- {first.strip()}" + "".join(f"\n{r}" for r in rest))
            else:
                lines.append(f"{pad}- {_yaml(item)}")
        return "\n".join(lines)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def compose_services(members: Sequence[DockerMember]) -> dict[str, Any]:
    services: dict[str, Any] = {}
    cluster_peers = ",".join(
        f"/ip4/{m.address + 1}/tcp/9096/p2p/{m.cluster_peer_id}" for m in members
    )
    for index, m in enumerate(members):
        cc, ip = m.host, m.address
        services[f"besu-{cc}"] = {
            "image": BESU_IMAGE,
            "restart": "unless-stopped",
            "command": [
                "--data-path=/data",
                "--genesis-file=/config/genesis.json",
                "--node-private-key-file=/keys/besu.key",
                f"--p2p-host={ip}",
                f"--p2p-port={P2P_PORT}",
                "--discovery-enabled=false",
                "--nat-method=NONE",
                "--static-nodes-file=/config/static-nodes.json",
                "--permissions-nodes-config-file-enabled",
                "--permissions-accounts-config-file-enabled",
                "--permissions-nodes-config-file=/config/permissions_config.toml",
                "--permissions-accounts-config-file=/config/permissions_config.toml",
                "--rpc-http-enabled",
                f"--rpc-http-host={ip}",
                "--rpc-http-api=ETH,NET,WEB3,QBFT,PERM",
                f"--host-allowlist={ip}",
                "--sync-mode=FULL",
            ],
            "volumes": [
                "./genesis.json:/config/genesis.json:ro",
                "./permissions_config.toml:/config/permissions_config.toml:ro",
                "./static-nodes.json:/config/static-nodes.json:ro",
                f"./{m.country}/besu.key:/keys/besu.key:ro",
                f"besu-{cc}:/data",
            ],
            "networks": {"consortium": {"ipv4_address": str(ip)}},
        }
        services[f"ipfs-{cc}"] = {
            "image": KUBO_IMAGE,
            "restart": "unless-stopped",
            "environment": {"LIBP2P_FORCE_PNET": "1", "IPFS_SWARM_KEY_FILE": "/keys/swarm.key"},
            "volumes": [
                "./swarm.key:/keys/swarm.key:ro",
                f"./{m.country}/kubo-init.sh:/container-init.d/001-closed.sh:ro",
                f"ipfs-{cc}:/data/ipfs",
            ],
            "networks": {"consortium": {"ipv4_address": str(ip + 2)}},
        }
        services[f"cluster-{cc}"] = {
            "image": CLUSTER_IMAGE,
            "restart": "unless-stopped",
            "depends_on": [f"ipfs-{cc}"],
            "env_file": ["./cluster.env"],  # CLUSTER_SECRET, kept out of this file
            "environment": {
                "CLUSTER_PEERNAME": m.country,
                "CLUSTER_IPFSHTTP_NODEMULTIADDRESS": f"/ip4/{ip + 2}/tcp/5001",
                "CLUSTER_LISTENMULTIADDRESS": f"/ip4/{ip + 1}/tcp/9096",
                "CLUSTER_PEERADDRESSES": cluster_peers,
                "CLUSTER_CRDT_TRUSTEDPEERS": ",".join(p.cluster_peer_id for p in members),
                "CLUSTER_IPFSPROXY_LISTENMULTIADDRESS": f"/ip4/{ip + 1}/tcp/9095",
                "CLUSTER_MDNSINTERVAL": "0",
                "CLUSTER_REPLICATIONFACTORMIN": "-1",
                "CLUSTER_REPLICATIONFACTORMAX": "-1",
            },
            "volumes": [
                f"./{m.country}/cluster-identity.json:/data/ipfs-cluster/identity.json:ro",
                f"cluster-{cc}:/data/ipfs-cluster",
            ],
            "networks": {"consortium": {"ipv4_address": str(ip + 1)}},
        }
        services[f"postgres-{cc}"] = {
            "image": POSTGRES_IMAGE,
            "restart": "unless-stopped",
            "environment": {
                "POSTGRES_USER": "docex",
                "POSTGRES_DB": "docex",
                "POSTGRES_PASSWORD_FILE": "/keys/postgres.password",
            },
            "volumes": [
                f"./{m.country}/postgres.password:/keys/postgres.password:ro",
                f"postgres-{cc}:/var/lib/postgresql/data",
            ],
            "networks": {"consortium": {"ipv4_address": str(ip + 3)}},
        }
        services[f"docex-{cc}"] = {
            "build": {"context": "../..", "dockerfile": "docker/Dockerfile"},
            "restart": "unless-stopped",
            "depends_on": [f"besu-{cc}", f"cluster-{cc}", f"postgres-{cc}"],
            "command": ["docex", "run", "--config", "/config/node.toml"],
            "volumes": [
                f"./{m.country}/node.toml:/config/node.toml:ro",
                f"./{m.country}/keys:/data/keys:ro",
                "./consortium.json:/config/consortium.json:ro",
                # written once by `docex chain deploy` (docker/README.md)
                "./deployment/chain.json:/data/chain.json:ro",
                f"docex-{cc}:/data",
            ],
            # the API on the host's loopback only: a reverse proxy publishes it further
            "ports": [f"127.0.0.1:{8000 + index}:8000"],
            "networks": {"consortium": {"ipv4_address": str(ip + 4)}, "api": {}},
        }
    return services


def compose_file(members: Sequence[DockerMember]) -> dict[str, Any]:
    services = compose_services(members)
    volumes: dict[str, Any] = {
        f"{kind}-{m.host}": {}
        for m in members
        for kind in ("besu", "ipfs", "cluster", "postgres", "docex")
    }
    return {
        "name": "docex-consortium",
        "services": services,
        "networks": {
            "consortium": {
                "driver": "bridge",
                "internal": True,
                "ipam": {"config": [{"subnet": str(SUBNET)}]},
            },
            # the docex nodes' API only (an internal network cannot publish ports)
            "api": {"driver": "bridge"},
        },
        "volumes": volumes,
    }


def node_settings_toml(member: DockerMember, database_password: str) -> str:
    """The docex node's settings file (``docex run --config``)."""
    base = member.address
    values = {
        "profile": "production",
        "data_dir": "/data",
        "chain": "rpc",
        "rpc_url": f"http://{base}:8545",
        "dev_consortium": False,
        "content_store": "kubo",
        "kubo_url": f"http://{base + 1}:9095",
        "country": member.country,
        "host": "0.0.0.0",  # noqa: S104 - inside its container, published on loopback only
        "port": 8000,
        "database_url": f"postgresql://docex:{database_password}@{base + 3}:5432/docex",
    }
    return "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())


# -- the generator ----------------------------------------------------------------------


def _member_secret(path: Path, make: bytes) -> bytes:
    if path.exists():
        return bytes.fromhex(path.read_text().strip().removeprefix("0x"))
    write_private(path, "0x" + make.hex())
    return make


def write_docker_consortium(
    out: Path,
    countries: Sequence[str] = DEFAULT_COUNTRIES,
    *,
    chain_id: int = DEFAULT_CHAIN_ID,
    block_period: int = 2,
    scrypt_n: int = 1 << 18,
) -> list[DockerMember]:
    """Write the consortium's files under ``out``; the members, in the given order."""
    if len(set(countries)) != len(countries) or len(countries) < 2:
        raise ValueError("a consortium needs two or more distinct members")
    if len(countries) * 8 + 10 > SUBNET.num_addresses:
        raise ValueError(f"too many members for {SUBNET}")
    out.mkdir(parents=True, exist_ok=True)
    members: list[DockerMember] = []
    for index, country in enumerate(countries):
        folder = out / country
        folder.mkdir(exist_ok=True)
        node_key = _member_secret(folder / "besu.key", secrets.token_bytes(32))
        issuer_key = _member_secret(folder / "issuer.key", secrets.token_bytes(32))
        cluster_seed = _member_secret(folder / "cluster.seed", secrets.token_bytes(32))
        peer_id, cluster_private = libp2p_identity(cluster_seed)
        write_private(
            folder / "cluster-identity.json",
            json.dumps({"id": peer_id, "private_key": cluster_private}, indent=2) + "\n",
        )
        member = DockerMember(
            country=country,
            name=MEMBER_NAMES.get(country, f"{country} Customs"),
            address=SUBNET.network_address + 10 + 8 * index,
            node_public_key=PrivateKey(node_key).public_key.to_bytes(),
            issuer=Account.from_key(issuer_key).address,
            cluster_peer_id=peer_id,
        )
        passphrase = secrets.token_urlsafe(24)
        keys = folder / "keys"
        keys.mkdir(exist_ok=True)
        for role, key in (("member", node_key), ("issuer", issuer_key)):
            keystore = Account.encrypt(key, passphrase, kdf="scrypt", iterations=scrypt_n)
            write_private(keys / f"{country}-{role}.json", json.dumps(keystore))
            write_private(keys / f"{country}-{role}.passphrase", passphrase + "\n")
        password_file = folder / "postgres.password"
        if not password_file.exists():
            write_private(password_file, secrets.token_urlsafe(24))
        write_private(
            folder / "node.toml", node_settings_toml(member, password_file.read_text().strip())
        )
        (folder / "kubo-init.sh").write_text(kubo_init_script(member.address + 2))
        (folder / "kubo-init.sh").chmod(0o755)
        members.append(member)
    genesis = qbft_genesis(
        chain_id=chain_id,
        validators=[m.account for m in members],
        alloc={m.account: _FUNDING_WEI for m in members}
        | {m.issuer: _FUNDING_WEI for m in members},
        block_period=block_period,
    )
    (out / "genesis.json").write_text(json.dumps(genesis, indent=2) + "\n")
    (out / "static-nodes.json").write_text(json.dumps([m.enode for m in members], indent=2))
    (out / "permissions_config.toml").write_text(permissions_toml(members))
    (out / "consortium.json").write_text(json.dumps(consortium_config(members), indent=2) + "\n")
    if not (out / "swarm.key").exists():
        write_private(
            out / "swarm.key", f"/key/swarm/psk/1.0.0/\n/base16/\n{secrets.token_bytes(32).hex()}\n"
        )
    if not (out / "cluster.env").exists():
        write_private(out / "cluster.env", f"CLUSTER_SECRET={secrets.token_bytes(32).hex()}\n")
    (out / "deployment").mkdir(exist_ok=True)
    compose = compose_file(members)
    (out / "compose.yaml").write_text(
        "# generated by `docex network docker`: never run on the development machines\n"
        + _yaml(compose)
        + "\n"
    )
    return members
