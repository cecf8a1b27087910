"""Mirroring through IPFS: two docex nodes (processes), each backed by its own Kubo in the
consortium's private swarm (127.0.0.56, 127.0.0.57). A certificate VN issues is added
and pinned in VN's Kubo; KR's node fetches it by CID through its own Kubo (bitswap),
verifies, pins and files it; both nodes serve it at /ipfs/ to entitled members only.
With the swarm link cut, KR falls back to VN's gateway and records why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from certificates.schemas.samples import sample_document
from ledger.chains import find_free_port
from node.network import KuboNode

from .test_two_nodes import issued_confidential, member_signer, wait_for

if TYPE_CHECKING:
    from conftest import KuboSwarm, Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"DOCEX_BATCH_MAX_LATENCY_MS": "100", "DOCEX_RECEIVE_POLL_MS": "200"}
RAW = {"Accept": "application/vnd.ipld.raw"}


def on_kubo(kubo: KuboNode) -> dict[str, str]:
    return {
        **FAST,
        "DOCEX_CONTENT_STORE": "kubo",
        "DOCEX_KUBO_URL": kubo.api_url,
        "DOCEX_BITSWAP_TIMEOUT_MS": "2000",
    }


def pinned(kubo: KuboNode) -> set[str]:
    return set(kubo.rpc("pin/ls", {"type": "recursive"})["Keys"])


def cut_swarm_link(one: KuboNode, other: KuboNode) -> None:
    """No more peering between the two, and their connection closed."""
    for here, there in ((one, other), (other, one)):
        peer = there.as_peer()
        here.rpc("swarm/peering/rm", {"arg": peer.peer_id})
        if peer.peer_id in here.connected_peers():
            here.rpc("swarm/disconnect", {"arg": f"{there.swarm_address}/p2p/{peer.peer_id}"})
    assert other.as_peer().peer_id not in one.connected_peers()


def received_at(client: httpx.Client, officer: str, target_hash: str) -> Any:
    def filed() -> Any:
        answer = client.get(
            f"/v1/inbox/{target_hash}", headers={"Authorization": f"Bearer {officer}"}
        )
        return answer.json() if answer.status_code == 200 else None

    return wait_for("KR's inbox", filed)


def test_a_certificate_reaches_the_addressee_over_bitswap_and_is_served_to_entitled_members(
    launch: Launcher, kubo_swarm: KuboSwarm
) -> None:
    vn_kubo, kr_kubo = kubo_swarm(["127.0.0.56", "127.0.0.57"])
    vn_port = find_free_port()
    vn_url = f"http://127.0.0.1:{vn_port}"
    vn = launch("vn", "--country", "VN", port=vn_port, env=on_kubo(vn_kubo))
    vn_token = vn.sample_token()
    kr = launch(
        "kr", "--country", "KR", "--join", str(vn.data_dir),
        "--peer-gateway", f"VN={vn_url}", env=on_kubo(kr_kubo),
    )  # fmt: skip
    kr.wait_until_up()
    kr_officer = kr.add_user("kr-customs", "customs-officer")

    certificate = {**sample_document("coo/1", 5), "importingCountry": "KR"}
    with httpx.Client(base_url=vn.base, timeout=30) as client:
        receipt = issued_confidential(client, vn_token, certificate)
    cid = receipt["cid"]
    assert cid in pinned(vn_kubo)  # the issuing node added and pinned it in its Kubo

    with httpx.Client(base_url=kr.base, timeout=30) as client:
        filed = received_at(client, kr_officer, receipt["targetHash"])
    assert filed["valid"] is True, filed["verdict"]
    assert filed["document"] == receipt["document"]
    assert filed["receivedFrom"].startswith(f"bitswap via {kr_kubo.host}:")
    assert filed["fallbacks"] == []
    assert cid in pinned(kr_kubo)  # verified, then pinned in KR's own Kubo

    # /ipfs/ at both Kubo-backed nodes: for the document's issuer and addressees only
    content = f"/ipfs/{cid}?format=raw"
    for node, country, reader in ((vn, "VN", "KR"), (kr, "KR", "VN")):
        with httpx.Client(base_url=node.base, timeout=30) as client:
            assert client.get(content, headers=RAW).status_code == 401
            sg = member_signer(vn.data_dir, "SG").headers("GET", content, country)
            refused = client.get(content, headers={**RAW, **sg})
            assert refused.status_code == 403, refused.text
            assert refused.json()["code"] == "not-entitled"
            entitled = member_signer(vn.data_dir, reader).headers("GET", content, country)
            served = client.get(content, headers={**RAW, **entitled})
            assert served.status_code == 200, served.text
            assert served.headers["content-type"] == "application/vnd.ipld.raw"

    # the swarm link cut: bitswap finds nothing, the issuer's gateway is the fallback
    cut_swarm_link(vn_kubo, kr_kubo)
    second = {**sample_document("coo/1", 6), "importingCountry": "KR"}
    with httpx.Client(base_url=vn.base, timeout=30) as client:
        receipt = issued_confidential(client, vn_token, second)
    with httpx.Client(base_url=kr.base, timeout=30) as client:
        filed = received_at(client, kr_officer, receipt["targetHash"])
    assert filed["valid"] is True, filed["verdict"]
    assert filed["receivedFrom"] == f"gateway VN {vn_url}"
    (fallback,) = filed["fallbacks"]
    assert fallback["source"].startswith(f"bitswap via {kr_kubo.host}:")
    assert fallback["reason"] == "not-in-swarm"
    assert receipt["cid"] in pinned(kr_kubo)
    assert "content source failed; trying the next" in kr.stderr

    for node in (kr, vn):
        assert node.interrupt() == 0
