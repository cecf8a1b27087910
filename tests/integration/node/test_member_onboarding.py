"""Onboarding a member of a real consortium, and its encryption keys under governance.

Every member makes its keys on its own machine (``docex member init`` in its own data
dir); genesis records the founders' public keys (``docex chain deploy``); an existing
member proposes the newcomer's admission with the public keys it was handed, a quorum
approves; the newcomer proposes its own encryption key from its own node. A confidential
certificate addressed to it then opens with its keys only (and the issuer's); after it
rotates its key on chain, documents sealed before still open and new ones are sealed for
the new key; an auditor key the quorum adds becomes a recipient. No data dir ever holds
another member's private key.

One anvil, four in-process nodes on it (chain = rpc, no dev consortium).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from certificates import Envelope, open_envelope, parse_strict_json
from certificates.encryption_keyring import generate_encryption_key
from certificates.errors import EnvelopeError, NotARecipient
from certificates.hashes import to_hex
from certificates.keystore import decrypt_keystore
from certificates.schemas.samples import sample_document
from ledger import ManagedAnvil
from node.access.roles import Role
from node.chain.index_follower import sync_index
from node.cli.main import app
from node.consortium.member_directory import envelope_document_id, is_envelope
from node.consortium.member_keys import read_keyring
from node.http.app import create_app
from node.runtime import NodeRuntime, read_member_keyring
from node.settings import NodeSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FOUNDERS = (("VN", "Viet Nam Customs"), ("KR", "Korea Customs Service"), ("SG", "Singapore"))


def docex(*args: str) -> Any:
    """Run a docex command in-process; its JSON output."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def member_init(data_dir: Path, country: str, name: str) -> dict[str, Any]:
    return docex(  # type: ignore[no-any-return]
        "member",
        "init",
        "--data-dir",
        str(data_dir),
        "--country",
        country,
        "--name",
        name,
        "--light-kdf",
        "--json",
    )


@dataclass
class MemberNode:
    country: str
    data_dir: Path
    runtime: NodeRuntime
    client: TestClient
    tokens: dict[str, str]

    def post(self, path: str, body: Any = None, user: str = "admin", **params: str) -> Any:
        answer = self.client.post(
            path, json=body, params=params, headers={"Authorization": f"Bearer {self.tokens[user]}"}
        )
        assert answer.status_code in (200, 201, 202), answer.text
        return answer.json()

    def propose(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/v1/consortium/proposals", body)  # type: ignore[no-any-return]

    def approve(self, proposal_id: int) -> dict[str, Any]:
        return self.post(f"/v1/consortium/proposals/{proposal_id}/approve")  # type: ignore[no-any-return]

    def sync(self) -> None:
        services = self.runtime.services
        assert services is not None
        sync_index(services.ledger, services.metrics)

    def issue_confidential(self, addressee: str, index: int) -> tuple[bytes, bytes, bytes]:
        """Issue a confidential certificate of origin for ``addressee``, anchor it; its
        stored envelope, batch root and target hash."""
        self.sync()
        certificate = {**sample_document("coo/1", index), "importingCountry": addressee}
        (accepted,) = self.post("/v1/documents", certificate, user="issuer", confidential="true")[
            "receipts"
        ]
        services = self.runtime.services
        assert services is not None
        services.batcher.run_once(force=True)
        self.sync()
        receipt = self.client.get(
            accepted["url"],
            headers={"Authorization": f"Bearer {self.tokens['issuer']}"},
        ).json()
        assert receipt["status"] == "anchored", receipt
        from adapters.content.cid import Cid

        sealed = services.store.get(Cid.parse(receipt["cid"]))
        assert is_envelope(sealed)
        return (
            sealed,
            bytes.fromhex(receipt["batchRoot"][2:]),
            bytes.fromhex(receipt["targetHash"][2:]),
        )


def start_member(data_dir: Path, country: str, rpc_url: str) -> MemberNode:
    settings = NodeSettings(
        data_dir=data_dir,
        country=country,
        chain="rpc",
        rpc_url=rpc_url,
        dev_consortium=False,  # type: ignore[arg-type]
        receive=False,
    )
    runtime = NodeRuntime(settings)
    services = runtime.open()
    tokens = {
        "admin": services.users.add(f"{country.lower()}-admin", Role.ADMIN),
        "issuer": services.users.add(f"{country.lower()}-coo", Role.ISSUER, ["coo/1"]),
    }
    client = TestClient(create_app(settings, services), client=("203.0.113.7", 5000))
    return MemberNode(country, data_dir, runtime, client, tokens)


def key_ids(sealed: bytes) -> list[str]:
    value = parse_strict_json(sealed, max_bytes=len(sealed))
    assert isinstance(value, dict)
    return list(Envelope.from_json(value).recipient_key_ids)


def opens(sealed: bytes, root: bytes, target: bytes, key_id: str, private_key: bytes) -> bool:
    value = parse_strict_json(sealed, max_bytes=len(sealed))
    assert isinstance(value, dict)
    try:
        open_envelope(
            Envelope.from_json(value),
            key_id=key_id,
            private_key=private_key,
            document_id=envelope_document_id(root),
            target_hash=target,
        )
    except EnvelopeError:
        return False
    return True


def private_keys_in(data_dir: Path) -> dict[str, set[str]]:
    """Every private key a data dir holds, unlocked with the passphrase files it holds:
    the addresses of its signing keys and the public keys of its encryption keys."""
    found: dict[str, set[str]] = {"accounts": set(), "encryption": set()}
    for path in sorted(data_dir.rglob("*.json")):
        passphrase_file = path.with_suffix(".passphrase")
        if not passphrase_file.exists():
            continue
        document = json.loads(path.read_text())
        if document.get("format") == "docex-encryption-keys/1":
            found["encryption"] |= {to_hex(p.public_key) for p in read_keyring(path).pairs}
        elif document.get("version") == 3:
            from eth_account import Account

            key = decrypt_keystore(document, passphrase_file.read_text().splitlines()[0])
            found["accounts"].add(Account.from_key(key).address)
    return found


def anvil_call(anvil: ManagedAnvil, method: str, *params: Any) -> None:
    import httpx

    answer = httpx.post(
        anvil.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    )
    answer.raise_for_status()
    assert "error" not in answer.json(), answer.text


def fund(anvil: ManagedAnvil, *accounts: str) -> None:
    for account in accounts:
        anvil_call(anvil, "anvil_setBalance", account, hex(10**20))


def test_a_member_is_onboarded_with_keys_made_on_its_own_machine(
    tmp_path: Path, anvil: ManagedAnvil
) -> None:
    # the founders make their keys, each in its own data dir, and hand over public keys
    founders = {c: member_init(tmp_path / c.lower(), c, name) for c, name in FOUNDERS}
    for made in founders.values():
        fund(anvil, made["memberAccount"], made["issuerAccount"])
    config = {
        "quorum_fraction": [1, 2],
        "members": [
            {
                "country": c,
                "name": made["name"],
                "account": made["memberAccount"],
                "encryption_key": made["encryptionPublicKey"],
                "issuer_keys": [{"account": made["issuerAccount"], "document_type": "coo/1"}],
            }
            for c, made in founders.items()
        ],
        "document_types": ["coo/1"],
    }
    (tmp_path / "consortium.json").write_text(json.dumps(config))
    deploy = CliRunner().invoke(
        app,
        [
            "chain",
            "deploy",
            str(tmp_path / "consortium.json"),
            "--data-dir",
            str(tmp_path / "deploy"),
            "--rpc-url",
            anvil.url,
            "--dev-account",
        ],
    )
    assert deploy.exit_code == 0, deploy.output
    chain_json = (tmp_path / "deploy" / "chain.json").read_text()
    for c in founders:
        (tmp_path / c.lower() / "chain.json").write_text(chain_json)
    # a second init on the same data dir refuses: keys are never overwritten
    again = CliRunner().invoke(
        app,
        [
            "member",
            "init",
            "--data-dir",
            str(tmp_path / "vn"),
            "--country",
            "VN",
            "--name",
            "x",
            "--light-kdf",
        ],
    )
    assert again.exit_code == 1
    assert "refusing to overwrite" in again.output

    nodes: dict[str, MemberNode] = {}
    try:
        for c in founders:
            nodes[c] = start_member(tmp_path / c.lower(), c, anvil.url)
        vn, kr, sg = nodes["VN"], nodes["KR"], nodes["SG"]

        # the newcomer makes its keys on its own machine; only public values leave it
        my = member_init(tmp_path / "my", "MY", "Royal Malaysian Customs")
        assert my["admission"] == {
            "action": "admitMember",
            "country": "MY",
            "name": "Royal Malaysian Customs",
            "account": my["memberAccount"],
        }
        fund(anvil, my["memberAccount"], my["issuerAccount"])

        # an existing member proposes the admission; one member alone is not the quorum
        proposed = vn.propose(my["admission"])
        assert proposed["status"] == "pending"
        assert kr.approve(proposed["id"])["status"] == "executed"
        # governance changes take effect from the next block; anvil mines on demand
        anvil_call(anvil, "evm_mine")
        (tmp_path / "my" / "chain.json").write_text(chain_json)  # public: addresses only
        nodes["MY"] = mine = start_member(tmp_path / "my", "MY", anvil.url)

        # before its key is on chain, nobody can seal for MY
        vn.sync()
        refused = vn.client.post(
            "/v1/documents",
            json={**sample_document("coo/1", 1), "importingCountry": "MY"},
            params={"confidential": "true"},
            headers={"Authorization": f"Bearer {vn.tokens['issuer']}"},
        )
        assert refused.status_code == 422, refused.text
        assert "no encryption key recorded for MY" in refused.json()["detail"]

        # the newcomer proposes its own encryption key (its consent), the quorum approves
        member_id = 4
        own_key = {
            "action": "setEncryptionKey",
            "memberId": member_id,
            "publicKey": my["encryptionPublicKey"],
        }
        pending = mine.propose(own_key)
        assert pending["status"] == "pending"
        vn.approve(pending["id"])
        assert kr.approve(pending["id"])["status"] == "executed"

        sealed, root, target = vn.issue_confidential("MY", 2)
        assert key_ids(sealed) == ["MY:1", "VN:1"]
        my_keyring = read_member_keyring(mine.runtime.settings)
        assert my_keyring is not None
        assert b'"certificateNumber"' in my_keyring.open(sealed, root, target)
        for other in (kr, sg):
            other_keyring = read_member_keyring(other.runtime.settings)
            assert other_keyring is not None
            with pytest.raises(NotARecipient):
                other_keyring.open(sealed, root, target)

        # rotation under governance: a new key on MY's machine, published with its consent
        rotated = docex(
            "member",
            "new-encryption-key",
            "--data-dir",
            str(tmp_path / "my"),
            "--country",
            "MY",
            "--light-kdf",
            "--json",
        )
        new_key = rotated["proposal"]["publicKey"]
        assert new_key != my["encryptionPublicKey"]
        # a quorum without MY cannot set MY's key (sovereignty)
        outsider_rotation = kr.propose({**own_key, "publicKey": to_hex(b"\x01" * 32)})
        vn.approve(outsider_rotation["id"])
        assert sg.approve(outsider_rotation["id"])["status"] == "pending"
        rotation = mine.propose({**own_key, "publicKey": new_key})
        vn.approve(rotation["id"])
        assert kr.approve(rotation["id"])["status"] == "executed"

        sealed_after, root_after, target_after = vn.issue_confidential("MY", 3)
        assert key_ids(sealed_after) == ["MY:2", "VN:1"]
        old_pair, new_pair = read_keyring(tmp_path / "my" / "keys" / "MY-encryption.json").pairs
        assert to_hex(new_pair.public_key) == new_key
        assert opens(sealed_after, root_after, target_after, "MY:2", new_pair.private_key)
        assert not opens(sealed_after, root_after, target_after, "MY:2", old_pair.private_key)
        my_keyring = read_member_keyring(mine.runtime.settings)  # after the rotation
        assert my_keyring is not None
        assert my_keyring.open(sealed, root, target)  # sealed under the old key: still opens
        assert my_keyring.open(sealed_after, root_after, target_after)

        # an auditor recipient, by consortium decision
        auditor = generate_encryption_key()
        added = vn.propose(
            {
                "action": "addAuditorKey",
                "name": "ASEAN post-clearance audit",
                "publicKey": to_hex(auditor.public_key),
            }
        )
        assert added["status"] == "pending"  # no single member adds one
        sealed_pending, _, _ = vn.issue_confidential("MY", 4)
        assert "auditor:1" not in key_ids(sealed_pending)
        assert kr.approve(added["id"])["status"] == "pending"  # 2 of 4: not yet the quorum
        assert sg.approve(added["id"])["status"] == "executed"
        audited, audited_root, audited_target = vn.issue_confidential("MY", 5)
        assert key_ids(audited) == ["MY:2", "VN:1", "auditor:1"]
        assert opens(audited, audited_root, audited_target, "auditor:1", auditor.private_key)

        # no data dir holds another member's private key
        public = {
            c: {
                "accounts": {m["memberAccount"], m["issuerAccount"]},
                "encryption": {m["encryptionPublicKey"]},
            }
            for c, m in {**founders, "MY": my}.items()
        }
        public["MY"]["encryption"].add(new_key)
        for c in public:
            held = private_keys_in(tmp_path / c.lower())
            assert held == public[c], c
    finally:
        for node in nodes.values():
            node.runtime.stop()
