"""A member's whole host lost, on `docex network` (each member its own geth, Kubo, node).

One network of four members (VN, KR, SG, TH on 127.0.0.94-97, ``Consortium``: each its
own Clique signer, Kubo peer and docex node), two faults in turn:

- **member-wiped**: TH's host loses its disks, again and again: its processes are killed
  by PID, its directory deleted, and it is restored from its keys alone (its key escrow:
  signer keystore and password, p2p node key, Kubo identity, node keys). Started again,
  its geth syncs the chain from the others and seals again, its node rebuilds its index
  from the chain and receives again, into an empty inbox, every document addressed to it
  so far (manifests from the issuer or another addressee, content over bitswap). Each
  document it holds then verifies with every check valid at its node.
- **host-destroyed**: with SG's node down, VN anchors permits for KR and SG (KR receives
  them) and permits for SG alone; then VN's whole host (node, geth, Kubo) is killed by
  PID and its directory deleted. SG's node comes back: it receives every permit KR also
  holds (the manifest from KR's node, the content from the swarm), and KR and SG verify
  and use (on chain) each of them. The permits for SG alone had no other holder: their
  content died with VN's host (no replicated pinning here), and the figures say so; the
  copy the trader carries still verifies at SG and SG records its use.

Every figure is counted against the chain's own logs (``eth_getLogs`` on a survivor's
geth): each document's Merkle proof leads to a root VN's issuer key anchored exactly
once, VN's batches hold exactly the documents issued, and every use is a
``DocumentUsed`` event.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

import httpx

from bench.soak.results import ScenarioResult, SoakContext
from certificates.merkle import root_from_proof
from certificates.schemas.samples import sample_permit_in_force
from ledger import ContractBinding, Deployment, JsonRpcChain, load_artifacts
from node.network.anchor_audit import anchored_batches
from node.network.consortium import LIGHT_SCRYPT_N, Consortium, MemberEndpoints

WIPED_TITLE: Final = "Member restarted from an empty data directory (keys only)"
DESTROYED_TITLE: Final = "Issuing member's whole host destroyed after anchoring"
FIRST_HOST: Final = 94
PERMIT: Final = "permit/1"
CHECKS: Final = ("integrity", "signature", "issuance", "issuer", "status", "recognition")
#: the addressees of TH's documents in turn (all include TH: it must get each back)
TO_TH: Final = (["TH"], ["SG", "TH"], ["KR", "TH"])
DOCEX: Final = str(Path(sys.executable).parent / "docex")
_numbers = itertools.count(1)


def run(context: SoakContext) -> list[ScenarioResult]:
    wiped = ScenarioResult("member-wiped", WIPED_TITLE)
    destroyed = ScenarioResult("host-destroyed", DESTROYED_TITLE)
    started = time.monotonic()
    network = _Network(context.workdir / "member-hosts" / "network")
    try:
        network.up()
        context.log(f"4 members on 127.0.0.{FIRST_HOST}-{FIRST_HOST + 3}")
        _member_wiped(context, network, wiped)
        wiped.seconds = time.monotonic() - started
        middle = time.monotonic()
        _host_destroyed(context, network, destroyed)
        destroyed.seconds = time.monotonic() - middle
    finally:
        network.consortium.down()
    for result in (wiped, destroyed):
        if not result.seconds:
            result.seconds = time.monotonic() - started
    return [wiped, destroyed]


class _Network:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.consortium = Consortium(root)
        self.deployment: Deployment | None = None
        self.tokens: dict[str, str] = {}
        #: every document VN issued, as its anchored receipt (target hash, proof, document)
        self.issued: list[dict[str, Any]] = []

    def up(self) -> None:
        self.deployment = self.consortium.up(
            scrypt_n=LIGHT_SCRYPT_N,
            first_host=FIRST_HOST,
            follow=False,
            agreements=[(country, "VN", PERMIT) for country in ("KR", "SG", "TH")],
        )
        self.tokens["VN"] = self.add_user("VN", "issuer")
        for country in ("KR", "SG", "TH"):
            self.tokens[country] = self.add_user(country, "customs-officer")

    def add_user(self, country: str, role: str) -> str:
        """A user on ``country``'s node (again after a wipe: users are not in the escrow)."""
        command = [DOCEX, "users", "add", f"{country.lower()}-{role}", "--role", role]
        command += ["--types", PERMIT] if role == "issuer" else []
        command += ["--data-dir", str(self.root / country / "node")]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return done.stdout.strip().splitlines()[-1]

    def member(self, country: str) -> MemberEndpoints:
        return next(m for m in self.consortium.members() if m.country == country)

    def client(self, country: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.member(country).node_url,
            headers={"Authorization": f"Bearer {self.tokens[country]}"},
            timeout=120,
        )

    def issue(self, addressees: list[list[str]]) -> list[dict[str, Any]]:
        """One confidential permit per entry of ``addressees``, in one request: their
        receipts once anchored, in that order, each with its ``addressees``."""
        documents = [
            sample_permit_in_force(next(_numbers), datetime.now(UTC).date(), to)
            for to in addressees
        ]
        with self.client("VN") as vn:
            answer = vn.post("/v1/documents", params={"confidential": "true"}, json=documents)
            if answer.status_code != 202:
                raise RuntimeError(f"VN answered {answer.status_code}: {answer.text[:300]}")
            receipts: list[dict[str, Any]] = [
                _wait(
                    f"receipt {r['id']} anchored",
                    partial(_anchored, vn, r["url"]),
                    timeout=180,
                )
                for r in answer.json()["receipts"]
            ]
        for receipt, to in zip(receipts, addressees, strict=True):
            receipt["addressees"] = to
        self.issued += receipts
        return receipts

    def inbox(self, country: str) -> dict[str, dict[str, Any]]:
        """``country``'s inbox, by target hash, every page."""
        found: dict[str, dict[str, Any]] = {}
        with self.client(country) as client:
            params: dict[str, Any] = {"limit": 100}
            while True:
                page = client.get("/v1/inbox", params=params).json()
                found |= {d["targetHash"]: d for d in page["documents"]}
                if not page.get("next") or not page["documents"]:
                    return found
                params = {"limit": 100, **page["next"]}

    def held(self, country: str, target_hash: str) -> dict[str, Any]:
        with self.client(country) as client:
            answer = client.get(f"/v1/inbox/{target_hash}")
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            return body

    def all_checks_valid(self, country: str, document: Any) -> bool:
        answer = httpx.post(f"{self.member(country).node_url}/v1/verify", json=document, timeout=60)
        statuses = {c["name"]: c["status"] for c in answer.json()["checks"]}
        return all(statuses.get(name) == "valid" for name in CHECKS)

    def use(self, country: str, target_hash: str, document: Any | None = None) -> bool:
        body: dict[str, Any] = {"declarationReference": f"{country}-IMP-{target_hash[2:14]}"}
        if document is not None:
            body["document"] = document
        with self.client(country) as client:
            return client.post(f"/v1/documents/{target_hash}/use", json=body).status_code == 200


def _member_wiped(context: SoakContext, network: _Network, result: ScenarioResult) -> None:
    consortium = network.consortium
    trials = context.trials(3, 2)
    per_trial = int(context.size(30, 12, 3))
    escrow = network.root.parent / "th-key-escrow"
    consortium.save_member_keys("TH", escrow)
    to_th: list[str] = []
    resync: list[float] = []
    refill: list[float] = []
    same_block = sealed_again = 0
    not_refiled = 0
    for trial in range(trials):
        receipts = network.issue([TO_TH[i % len(TO_TH)] for i in range(per_trial)])
        receipts += network.issue([["KR", "SG"]])  # one TH is not to get
        to_th += [r["targetHash"] for r in receipts if "TH" in r["addressees"]]
        _wait("TH's inbox", partial(_holds, network, "TH", list(to_th)), timeout=300)
        head = consortium.geth("KR").block_number()
        kept = consortium.geth("KR").rpc("eth_getBlockByNumber", [hex(head), False])["hash"]

        consortium.stop_member("TH", kill=True)
        shutil.rmtree(network.root / "TH")
        consortium.restore_member("TH", escrow)
        restarted = time.monotonic()
        consortium.start_member("TH")
        resync.append(time.monotonic() - restarted)
        network.tokens["TH"] = network.add_user("TH", "customs-officer")
        mine = consortium.geth("TH").rpc("eth_getBlockByNumber", [hex(head), False])
        same_block += int(mine is not None and mine["hash"] == kept)
        try:
            _wait("TH's inbox refilled", partial(_holds, network, "TH", list(to_th)), timeout=300)
            refill.append(time.monotonic() - restarted)
        except RuntimeError as error:
            not_refiled += 1
            result.notes.append(f"trial {trial + 1}: {error}")
        sealed_again += _seals_again(network, "TH")
        context.log(
            f"wipe {trial + 1}/{trials}: TH back in {resync[-1]:.1f} s, its inbox of "
            f"{len(to_th)} refilled in {refill[-1] if refill else float('nan'):.1f} s"
        )
    inbox = network.inbox("TH")
    held = [network.held("TH", target)["document"] for target in to_th if target in inbox]
    green = sum(network.all_checks_valid("TH", document) for document in held)
    audit = _chain_audit(network, consortium.members()[1].rpc_url, held)
    unexpected = sum(1 for target in inbox if target not in to_th)
    violations = consortium.audit()
    result.figures = {
        "wipes": trials,
        "kept_by_the_member": "signer keystore + password, p2p node key, Kubo identity, node keys",
        "documents_addressed_to_it": len(to_th),
        "inbox_after_last_rebuild": len(inbox),
        "not_addressed_to_it_in_inbox": unexpected,
        "verified_all_checks_valid_at_it": green,
        **audit,
        "same_block_hash_at_old_head": same_block,
        "sealing_again_after_wipe": sealed_again,
        "resync_seconds_max": round(max(resync, default=0.0), 1),
        "inbox_refilled_seconds_max": round(max(refill, default=0.0), 1),
        "closed_network_violations": len(violations),
    }
    result.notes += [str(v) for v in violations]
    holds = (
        not_refiled == 0
        and len(inbox) == len(to_th) == green
        and unexpected == 0
        and audit["lost"] == 0
        and audit["duplicated"] == 0
        and same_block == sealed_again == trials
        and not violations
    )
    result.outcome = "pass" if holds else "fail"


def _host_destroyed(context: SoakContext, network: _Network, result: ScenarioResult) -> None:
    consortium = network.consortium
    shared_count = int(context.size(40, 16, 4))
    sole_count = int(context.size(4, 2, 1))
    consortium.stop_member("SG", engines=("node",))
    shared: list[dict[str, Any]] = []
    sole: list[dict[str, Any]] = []
    for start in range(0, shared_count, 10):
        shared += network.issue([["KR", "SG"]] * min(10, shared_count - start))
    sole += network.issue([["SG"]] * sole_count)
    shared_hashes = [r["targetHash"] for r in shared]
    _wait("KR's inbox", lambda: _holds(network, "KR", shared_hashes), timeout=300)
    sealed_before = consortium.geth("KR").block_number()

    vn = network.member("VN")
    consortium.stop_member("VN", kill=True)
    shutil.rmtree(network.root / "VN")
    destroyed_at = time.monotonic()
    consortium.start_member("SG", engines=("node",))
    try:
        _wait("SG's inbox without VN", lambda: _holds(network, "SG", shared_hashes), timeout=300)
        received_seconds = round(time.monotonic() - destroyed_at, 1)
    except RuntimeError as error:
        received_seconds = -1.0
        result.notes.append(str(error))
    context.log(f"VN destroyed; SG holds {len(network.inbox('SG'))} documents")
    sg_inbox = network.inbox("SG")
    sources = Counter(
        "bitswap" if (network.held("SG", t)["receivedFrom"] or "").startswith("bitswap")
        else "gateway KR"
        for t in shared_hashes
        if t in sg_inbox
    )  # fmt: skip
    held = {
        country: [network.held(country, t)["document"] for t in shared_hashes]
        for country in ("KR", "SG")
        if all(t in network.inbox(country) for t in shared_hashes)
    }
    green = {
        country: sum(network.all_checks_valid(country, d) for d in documents)
        for country, documents in held.items()
    }
    used = sum(
        network.use("KR" if index % 2 else "SG", receipt["targetHash"])
        for index, receipt in enumerate(shared)
    )
    # the documents for SG alone: no holder survived; the trader's copy still serves
    sole_received = sum(1 for r in sole if r["targetHash"] in sg_inbox)
    sole_green = sum(network.all_checks_valid("SG", r["document"]) for r in sole)
    sole_used = sum(network.use("SG", r["targetHash"], r["document"]) for r in sole)
    survivor = network.member("KR").rpc_url
    audit = _chain_audit(network, survivor, [r["document"] for r in network.issued])
    uses_on_chain = _uses_on_chain(network, survivor)
    sealed_after = consortium.geth("KR").block_number() - sealed_before
    violations = consortium.audit()
    result.figures = {
        "documents_for_kr_and_sg": len(shared),
        "documents_for_sg_alone": len(sole),
        "sg_received_after_the_loss": sum(1 for t in shared_hashes if t in sg_inbox),
        "content_sources": dict(sources),
        "seconds_to_receive_all_after_the_loss": received_seconds,
        "verified_all_checks_valid_at_kr": green.get("KR", 0),
        "verified_all_checks_valid_at_sg": green.get("SG", 0),
        "used_on_chain_after_the_loss": used,
        "sole_addressee_documents_received": sole_received,
        "sole_addressee_presented_copies_valid": sole_green,
        "sole_addressee_presented_copies_used": sole_used,
        "document_used_events": uses_on_chain,
        **audit,
        "blocks_sealed_without_vn": sealed_after,
        "closed_network_violations": len(violations),
    }
    result.notes.append(
        f"VN's host ({vn.host}) destroyed: its {len(sole)} permit(s) for SG alone, not yet "
        "fetched, had no other holder; their content was lost with it (replicated pinning, "
        "IPFS Cluster in docker/, would keep it); their anchors and the trader's copies "
        "still verify and are used"
    )
    result.notes += [str(v) for v in violations]
    holds = (
        len(held) == 2
        and green.get("KR") == green.get("SG") == len(shared)
        and used == len(shared)
        and sole_green == sole_used == len(sole)
        and uses_on_chain == len(shared) + len(sole)
        and audit["lost"] == 0
        and audit["duplicated"] == 0
        and sealed_after > 0
        and not violations
    )
    result.outcome = "pass" if holds else "fail"


def _anchored(client: httpx.Client, url: str) -> dict[str, Any] | None:
    receipt: dict[str, Any] = client.get(url).json()
    return receipt if receipt["status"] == "anchored" else None


def _holds(network: _Network, country: str, targets: list[str]) -> bool | None:
    inbox = network.inbox(country)
    return True if all(target in inbox for target in targets) else None


def _wait(what: str, probe: Callable[[], Any], *, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} after {timeout:.0f} s")
        time.sleep(0.5)
    return found


def _seals_again(network: _Network, country: str, timeout: float = 60.0) -> int:
    """1 when ``country``'s signer seals a block of the common chain within ``timeout``."""
    geth = network.consortium.geth("KR")
    signer = network.member(country).signer.lower()
    start = geth.block_number()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for number in range(start + 1, geth.block_number() + 1):
            if str(geth.rpc("clique_getSigner", [hex(number)])).lower() == signer:
                return 1
        time.sleep(0.5)
    return 0


def _chain_audit(network: _Network, rpc_url: str, documents: list[Any]) -> dict[str, int]:
    """``documents`` (wrapped) against VN's anchors in the chain's own logs: each one's
    proof must lead to a root anchored exactly once; VN's batches must hold exactly the
    documents VN issued."""
    assert network.deployment is not None
    batches = anchored_batches(rpc_url, network.deployment, network.member("VN").issuer)
    times = Counter(root for root, _ in batches)
    lost = 0
    for document in documents:
        root = root_from_proof(
            bytes.fromhex(document["targetHash"][2:]),
            [bytes.fromhex(p[2:]) for p in document["batch"]["proof"]],
        )
        lost += int(times[root] != 1)
    on_chain = sum(count for _, count in batches)
    repeated = sum(n - 1 for n in times.values() if n > 1)
    return {
        "accepted": len(network.issued),
        "checked": len(documents),
        "lost": lost,
        "duplicated": repeated + max(on_chain - len(network.issued), 0),
        "batches_on_chain": len(batches),
        "documents_on_chain": on_chain,
    }


def _uses_on_chain(network: _Network, rpc_url: str) -> int:
    """``DocumentUsed`` events of VN's documents, from the chain's own logs."""
    assert network.deployment is not None
    registry = ContractBinding(
        load_artifacts()["DocumentRegistry"], network.deployment.document_registry
    )
    issued = {r["targetHash"].lower() for r in network.issued}
    chain = JsonRpcChain(rpc_url)
    try:
        logs = chain.request(
            "eth_getLogs",
            [{"fromBlock": hex(network.deployment.deployed_block), "toBlock": "latest",
              "address": registry.address}],
        )  # fmt: skip
    finally:
        chain.close()
    used = 0
    for log in logs:
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        codec = registry.abi.event_of(topics, bytes.fromhex(log["data"][2:]))
        if codec is not None and codec.name == "DocumentUsed" and log["topics"][1] in issued:
            used += 1
    return used
