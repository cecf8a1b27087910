"""Faults of a whole member host on `docex network` (issue 13, point 6), at smoke size.

One network for the module (VN, KR, SG, TH on 127.0.0.90-93, each its own geth signer,
Kubo peer and docex node), the tests in order:

- TH's host loses its disks: its processes killed by PID, its directory deleted. It is
  restored from its keys alone (its key escrow) and started again: its geth syncs the
  chain from the others and seals again, its node rebuilds its index from the chain and
  receives again, into an empty inbox, the documents VN addressed to it.
- VN's whole host (node, geth, Kubo) is destroyed after anchoring two permits addressed
  to KR and SG, which KR had received and SG (its node down meanwhile) had not: SG
  still receives them (the manifest from KR's node, the content from the swarm), both
  verify them with every check valid, and each records a use of one on chain.

Every document is counted against the chain's own logs: each one filed leads by its
Merkle proof to a root VN's issuer key anchored in exactly one ``BatchAnchored`` event,
and VN's anchored batches hold exactly the documents issued. ``make soak`` runs the same
faults with more documents (``bench/soak/scenarios/member_hosts.py``).
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from certificates.json_types import JsonObject
from certificates.merkle import root_from_proof
from certificates.schemas.samples import sample_permit_in_force
from ledger import Deployment
from node.network.anchor_audit import anchored_batches
from node.network.consortium import LIGHT_SCRYPT_N, Consortium, MemberEndpoints

from .test_network_command import _in_inbox as in_inbox
from .test_network_command import users_add, wait_for

pytestmark = pytest.mark.slow

CHECKS = ("integrity", "signature", "issuance", "issuer", "status", "recognition")
PERMIT = "permit/1"


@dataclass
class Network:
    root: Path
    consortium: Consortium
    deployment: Deployment
    vn_issuer: str
    #: every document VN issued, as its anchored receipt
    issued: list[dict[str, Any]]

    def member(self, country: str) -> MemberEndpoints:
        return next(m for m in self.consortium.members() if m.country == country)

    def issue(self, count: int, addressees: list[str]) -> list[dict[str, Any]]:
        """``count`` confidential permits issued at VN to ``addressees``, once anchored."""
        documents: list[JsonObject] = []
        for _ in range(count):
            documents.append(
                sample_permit_in_force(
                    len(self.issued) + len(documents), datetime.now(UTC).date(), addressees
                )
            )
        answer = httpx.post(
            f"{self.member('VN').node_url}/v1/documents",
            params={"confidential": "true"},
            json=documents,
            headers={"Authorization": f"Bearer {self.vn_issuer}"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        receipts = [
            wait_for(f"receipt {r['id']} anchored", lambda r=r: self._anchored(r["url"]))
            for r in answer.json()["receipts"]
        ]
        self.issued += receipts
        return receipts

    def _anchored(self, url: str) -> dict[str, Any] | None:
        receipt = get(f"{self.member('VN').node_url}{url}", self.vn_issuer)
        return receipt if receipt["status"] == "anchored" else None


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    root = tmp_path_factory.mktemp("faults") / "network"
    consortium = Consortium(root)
    try:
        deployment = consortium.up(
            scrypt_n=LIGHT_SCRYPT_N,
            first_host=90,
            follow=False,
            agreements=[(country, "VN", PERMIT) for country in ("KR", "SG", "TH")],
        )
        vn_issuer = users_add(root / "VN" / "node", "vn-ministry", "issuer", PERMIT)
        yield Network(root, consortium, deployment, vn_issuer, [])
    finally:
        consortium.down()
    assert consortium.running() == []


def test_a_member_restarted_from_an_empty_data_directory_gets_its_chain_index_and_inbox_back(
    network: Network, tmp_path: Path
) -> None:
    consortium, th = network.consortium, network.member("TH")
    escrow = tmp_path / "th-keys"  # what TH keeps off its host: its secrets, nothing else
    consortium.save_member_keys("TH", escrow)
    officer = users_add(network.root / "TH" / "node", "th-customs", "customs-officer")
    receipts = network.issue(2, ["SG", "TH"])
    for receipt in receipts:
        wait_for("TH's inbox", lambda r=receipt: in_inbox(th.node_url, officer, r["targetHash"]))
    head = consortium.geth("KR").block_number()

    # TH's host loses its disks
    pids = [e for e in consortium.pid_file.entries() if e.name.startswith("TH-")]
    assert consortium.stop_member("TH", kill=True) == ["TH-node", "TH-kubo", "TH-geth"]
    assert not [e.name for e in pids if e.running()]
    shutil.rmtree(network.root / "TH")

    consortium.restore_member("TH", escrow)
    assert sorted(p.name for p in (network.root / "TH" / "node").iterdir()) == ["keys"]
    consortium.start_member("TH")

    # its chain: synced from the others (the same block at the old head), sealing again
    kr_block = consortium.geth("KR").rpc("eth_getBlockByNumber", [hex(head), False])
    th_block = consortium.geth("TH").rpc("eth_getBlockByNumber", [hex(head), False])
    assert th_block["hash"] == kr_block["hash"]
    restarted_at = consortium.geth("KR").block_number()
    wait_for("a block sealed by TH again", lambda: sealed_by(network, th.signer, restarted_at))
    assert [(s.engine, s.healthy) for s in consortium.status() if s.member == "TH"] == [
        ("geth", True),
        ("kubo", True),
        ("node", True),
    ]

    # its index and inbox, rebuilt from the chain and the other members
    officer = users_add(network.root / "TH" / "node", "th-customs", "customs-officer")
    for receipt in receipts:
        filed = wait_for(
            "TH's inbox refilled",
            lambda r=receipt: in_inbox(th.node_url, officer, r["targetHash"]),
            timeout=300,
        )
        assert filed["issuerCountry"] == "VN"
        assert filed["valid"] is True
        assert verdict(th.node_url, receipt["document"]) == dict.fromkeys(CHECKS, "valid")
    assert consortium.audit() == []


def test_the_issuers_whole_host_destroyed_after_anchoring_its_documents_still_reach_and_serve(
    network: Network,
) -> None:
    consortium = network.consortium
    kr, sg = network.member("KR"), network.member("SG")
    kr_officer = users_add(network.root / "KR" / "node", "kr-customs", "customs-officer")
    sg_officer = users_add(network.root / "SG" / "node", "sg-customs", "customs-officer")
    assert consortium.stop_member("SG", engines=("node",)) == ["SG-node"]
    receipts = network.issue(2, ["KR", "SG"])
    for receipt in receipts:
        wait_for("KR's inbox", lambda r=receipt: in_inbox(kr.node_url, kr_officer, r["targetHash"]))

    # VN's host destroyed: its node, geth and Kubo killed by PID, its directory deleted
    pids = [e for e in consortium.pid_file.entries() if e.name.startswith("VN-")]
    assert consortium.stop_member("VN", kill=True) == ["VN-node", "VN-kubo", "VN-geth"]
    assert not [e.name for e in pids if e.running()]
    shutil.rmtree(network.root / "VN")

    consortium.start_member("SG", engines=("node",))
    for receipt in receipts:
        filed = wait_for(
            "SG's inbox without VN",
            lambda r=receipt: in_inbox(sg.node_url, sg_officer, r["targetHash"]),
            timeout=300,
        )
        assert filed["valid"] is True
        # the content came from the swarm (KR's Kubo holds it) or KR's gateway, never VN
        detail = received(sg.node_url, sg_officer, receipt["targetHash"])
        assert "VN" not in (detail["receivedFrom"] or "")
        # each addressee verifies the copy it holds, against its own geth's chain
        for node_url, officer in ((kr.node_url, kr_officer), (sg.node_url, sg_officer)):
            held = received(node_url, officer, receipt["targetHash"])["document"]
            assert verdict(node_url, held) == dict.fromkeys(CHECKS, "valid")

    # and used: each addressee records a use of one of them on chain, VN being gone
    for (node_url, officer), receipt in zip(
        ((kr.node_url, kr_officer), (sg.node_url, sg_officer)), receipts, strict=True
    ):
        used = httpx.post(
            f"{node_url}/v1/documents/{receipt['targetHash']}/use",
            json={"declarationReference": f"IMP-{receipt['targetHash'][2:10]}"},
            headers={"Authorization": f"Bearer {officer}"},
            timeout=120,
        )
        assert used.status_code == 200, used.text

    # counted against the chain's own logs, read at KR's geth: what each addressee holds
    # leads by its proof to a root VN's issuer anchored exactly once
    anchored = anchored_batches(kr.rpc_url, network.deployment, network.member("VN").issuer)
    times = Counter(root for root, _ in anchored)
    for node_url, officer in ((kr.node_url, kr_officer), (sg.node_url, sg_officer)):
        for receipt in receipts:
            held = received(node_url, officer, receipt["targetHash"])["document"]
            root = root_from_proof(
                bytes.fromhex(held["targetHash"][2:]),
                [bytes.fromhex(p[2:]) for p in held["batch"]["proof"]],
            )
            assert times[root] == 1
    assert all(n == 1 for n in times.values())
    assert sum(count for _, count in anchored) == len(network.issued)


def received(node_url: str, token: str, target_hash: str) -> dict[str, Any]:
    return get(f"{node_url}/v1/inbox/{target_hash}", token)


def get(url: str, token: str) -> dict[str, Any]:
    answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


def verdict(node_url: str, document: Any) -> dict[str, str]:
    answer = httpx.post(f"{node_url}/v1/verify", json=document, timeout=30)
    assert answer.status_code == 200, answer.text
    statuses = {check["name"]: check["status"] for check in answer.json()["checks"]}
    return {name: statuses.get(name, "") for name in CHECKS}


def sealed_by(network: Network, signer: str, after: int) -> bool | None:
    geth = network.consortium.geth("KR")
    for number in range(after + 1, geth.block_number() + 1):
        if str(geth.rpc("clique_getSigner", [hex(number)])).lower() == signer.lower():
            return True
    return None
