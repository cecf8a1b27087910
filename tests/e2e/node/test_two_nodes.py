"""Two (three) nodes as processes on one anvil: a confidential certificate of origin
issued by VN to KR arrives in KR's inbox before the goods and verifies there; SG's node,
a member of the same consortium, can neither receive nor open it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from certificates import decrypt_keystore
from certificates.errors import NotARecipient
from certificates.member_requests import request_domain
from certificates.schemas.samples import sample_document
from ledger import Deployment
from ledger.chains import find_free_port
from node.access.member_requests import MemberRequestSigner
from node.consortium.member_directory import MemberKeyring, is_envelope
from node.consortium.member_keys import read_keyring

if TYPE_CHECKING:
    from conftest import Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"DOCEX_BATCH_MAX_LATENCY_MS": "100", "DOCEX_RECEIVE_POLL_MS": "200"}


def wait_for(what: str, probe: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def issued_confidential(client: httpx.Client, token: str, certificate: Any) -> Any:
    """``certificate`` issued sealed through ``client``'s node; its anchored receipt."""
    auth = {"Authorization": f"Bearer {token}"}
    accepted = client.post(
        "/v1/documents", params={"confidential": "true"}, json=certificate, headers=auth
    )
    assert accepted.status_code == 202, accepted.text
    url = accepted.headers["location"]

    def anchored() -> Any:
        body = client.get(url, headers=auth).json()
        return body if body["status"] == "anchored" else None

    return wait_for("the anchor", anchored)


def member_key(data_dir: Path, country: str) -> bytes:
    keystore = data_dir / "keys" / f"{country}-member.json"
    passphrase = keystore.with_suffix(".passphrase").read_text().splitlines()[0]
    return decrypt_keystore(json.loads(keystore.read_text()), passphrase)


def member_secret(data_dir: Path, country: str) -> MemberKeyring:
    keyring = read_keyring(data_dir / "keys" / f"{country}-encryption.json")
    return MemberKeyring(country, keyring.private_keys)


def member_signer(data_dir: Path, country: str) -> MemberRequestSigner:
    """``country``'s member node signing its requests (ADR 0023)."""
    deployment = Deployment.read(data_dir)
    domain = request_domain(deployment.chain_id, deployment.consortium_registry)
    return MemberRequestSigner(member_key(data_dir, country), domain)


def test_a_confidential_certificate_reaches_the_addressee_only(launch: Launcher) -> None:
    vn_port = find_free_port()
    vn_url = f"http://127.0.0.1:{vn_port}"
    vn = launch("vn", "--country", "VN", port=vn_port, env=FAST)
    vn_token = vn.sample_token()  # printed once the dev consortium is deployed

    kr = launch(
        "kr",
        "--country",
        "KR",
        "--join",
        str(vn.data_dir),
        "--peer-gateway",
        f"VN={vn_url}",
        env=FAST,
    )
    sg = launch(
        "sg",
        "--country",
        "SG",
        "--join",
        str(vn.data_dir),
        "--peer-gateway",
        f"VN={vn_url}",
        env=FAST,
    )
    kr.wait_until_up()
    sg.wait_until_up()
    kr_officer = kr.add_user("kr-customs", "customs-officer")
    sg_officer = sg.add_user("sg-customs", "customs-officer")

    certificate = {**sample_document("coo/1", 3), "importingCountry": "KR"}
    with httpx.Client(base_url=vn.base, timeout=30) as client:
        receipt = issued_confidential(client, vn_token, certificate)
        content = f"/ipfs/{receipt['cid']}?format=raw"
        # stored content is for entitled members only (ADR 0023): not an outsider, not
        # SG (a member, not an addressee); KR (the addressee) signs and reads it
        assert client.get(content).status_code == 401
        sg_signed = member_signer(vn.data_dir, "SG").headers("GET", content, "VN")
        refused = client.get(content, headers=sg_signed)
        assert refused.status_code == 403
        assert refused.json()["code"] == "not-entitled"
        kr_signed = member_signer(vn.data_dir, "KR").headers("GET", content, "VN")
        stored = client.get(content, headers=kr_signed)
        assert stored.status_code == 200, stored.text
    sealed = stored.content
    assert is_envelope(sealed), "confidential content must be stored sealed"
    assert str(certificate["certificateNumber"]).encode() not in sealed
    root = bytes.fromhex(receipt["batchRoot"][2:])
    target_hash = bytes.fromhex(receipt["targetHash"][2:])

    # KR: fetched from VN's gateway, opened with KR's member key, verified, filed
    with httpx.Client(base_url=kr.base, timeout=30) as client:
        officer = {"Authorization": f"Bearer {kr_officer}"}

        def in_inbox() -> Any:
            answer = client.get("/v1/inbox", headers=officer)
            assert answer.status_code == 200, answer.text
            return answer.json()["documents"]

        (listed,) = wait_for("KR's inbox", in_inbox)
        assert listed["targetHash"] == receipt["targetHash"]
        assert listed["issuerCountry"] == "VN"
        assert listed["confidential"] is True
        assert listed["valid"] is True
        received = client.get(f"/v1/inbox/{receipt['targetHash']}", headers=officer).json()
        assert received["document"] == receipt["document"]
        checks = {check["name"]: check["status"] for check in received["verdict"]["checks"]}
        assert set(checks.values()) == {"valid"}, received["verdict"]
        verdict = client.post("/v1/verify", json=received["document"]).json()
        assert verdict["valid"] is True, verdict

    # SG: not addressed, nothing received; and its member key does not open the envelope
    with httpx.Client(base_url=sg.base, timeout=30) as client:
        time.sleep(1.0)  # several receiver passes after KR got it
        inbox = client.get("/v1/inbox", headers={"Authorization": f"Bearer {sg_officer}"})
        assert inbox.json()["documents"] == []
    with pytest.raises(NotARecipient):
        member_secret(sg.data_dir, "SG").open(sealed, root, target_hash)
    assert member_secret(kr.data_dir, "KR").open(sealed, root, target_hash)

    for node in (sg, kr, vn):
        assert node.interrupt() == 0


def test_a_confidential_certificates_attachment_is_mirrored_and_checked_at_the_addressee(
    launch: Launcher,
) -> None:
    import base64

    vn_port = find_free_port()
    vn = launch("vn", "--country", "VN", port=vn_port, env=FAST)
    vn_token = vn.sample_token()
    kr = launch(
        "kr", "--country", "KR", "--join", str(vn.data_dir),
        "--peer-gateway", f"VN=http://127.0.0.1:{vn_port}", env=FAST,
    )  # fmt: skip
    kr.wait_until_up()
    kr_officer = kr.add_user("kr-customs", "customs-officer")
    invoice = b"%PDF-1.7\n% invoice INV-2024-0042 for KR\n%%EOF\n"
    certificate = {
        **sample_document("coo/1", 4),
        "importingCountry": "KR",
        "attachments": [
            {
                "name": "invoice.pdf",
                "kind": "invoice",
                "content": base64.b64encode(invoice).decode(),
            }
        ],
    }
    with httpx.Client(base_url=vn.base, timeout=30) as client:
        receipt = issued_confidential(client, vn_token, certificate)

    with httpx.Client(base_url=kr.base, timeout=30) as client:
        officer = {"Authorization": f"Bearer {kr_officer}"}

        def received() -> Any:
            answer = client.get(f"/v1/inbox/{receipt['targetHash']}", headers=officer)
            return answer.json() if answer.status_code == 200 else None

        filed = wait_for("KR's inbox", received)
        checks = {check["name"]: check for check in filed["verdict"]["checks"]}
        assert checks["attachments"]["code"] == "attachments-intact", filed["verdict"]
        verdict = client.post("/v1/verify", json=filed["document"]).json()
        assert verdict["valid"] is True, verdict
        assert any(c["code"] == "attachments-intact" for c in verdict["checks"])

    for node in (kr, vn):
        assert node.interrupt() == 0
