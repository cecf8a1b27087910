"""The steps of the demo: what each member does over HTTP, and what the demo checks.

Each step is a function ``(DemoContext, StepRecord) -> None`` that does its work through
the nodes' APIs (as the node's users: VN's trade ministry, KR customs, SG customs, an
auditor) and records its expectations on the :class:`StepRecord`. The work that the
API lets run side by side does: issue requests carry 50 certificates each, and verify,
use and history requests go through a bounded pool of :data:`~node.dev.demo.node_api.POOL`
threads per node.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from certificates.check_codes import CheckCode
from certificates.errors import DocexError
from ledger import Deployment
from node.audit import check_report
from node.dev.demo.certificates_of_origin import amended_certificate, certificate_for_korea
from node.dev.demo.expectations import StepRecord
from node.dev.demo.failures import DemoAborted
from node.dev.demo.network import TourNetwork
from node.dev.demo.node_api import POOL, ApiJson, NodeApi, wait_for
from node.dev.demo.plan import DemoPlan
from node.dev.demo.report import note

#: certificates per ``POST /v1/documents`` (the node accepts up to 1,000 per request)
ISSUE_CHUNK: Final = 50
#: requests in flight at once while issuing (VN's batcher works meanwhile)
ISSUE_PARALLEL: Final = 4
#: how long the chain, the indexers and the receiver may take to catch up
CATCH_UP: Final = 120.0
#: the people of the demo: (user, its node's country, role, document types)
USERS: Final = (
    ("vn-trade-ministry", "VN", "issuer", "coo"),
    ("kr-customs", "KR", "customs-officer", ""),
    ("sg-customs", "SG", "customs-officer", ""),
    ("vn-auditor", "VN", "auditor", ""),
)
#: why KR customs rejects a certificate (the reason code goes on chain, back to VN)
REJECTION_REASONS: Final = {
    11: "origin criterion not met for the declared HS code",
    12: "goods description does not match the import declaration",
    13: "certificate presented after the FTA's validity period",
}
#: why VN's trade ministry revokes a certificate
REVOCATION_REASON: Final = (21, "issued on a fraudulent application by the exporter")

Item = TypeVar("Item")
Result = TypeVar("Result")


@contextmanager
def bounded_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A thread pool whose queued work is dropped when the caller stops (Ctrl-C, a
    step that broke off): only the requests in flight are waited for."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix="docex-demo")
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _problem_detail(answer: httpx.Response) -> str:
    """A problem+json answer's ``detail`` (its text when it is not one)."""
    try:
        return str(answer.json().get("detail", answer.text))[:300]
    except ValueError:
        return answer.text[:300]


@dataclass
class Certificate:
    """One certificate of origin of the demo, as each member came to know it."""

    position: int
    source: ApiJson
    receipt_id: str = ""
    target_hash: str = ""
    #: the wrapped document from VN's receipt
    wrapped: ApiJson = field(default_factory=dict)
    #: the wrapped document as KR's node received it (its inbox)
    received: ApiJson = field(default_factory=dict)


@dataclass
class DemoContext:
    """What the steps share: the plan, the network, each member's users and the
    certificates as they go."""

    plan: DemoPlan
    console: Console
    network: TourNetwork
    run_id: str
    apis: dict[str, NodeApi] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)
    #: position of an amended certificate -> its replacement
    replacements: dict[int, Certificate] = field(default_factory=dict)

    def api(self, name: str) -> NodeApi:
        return self.apis[name]

    def close(self) -> None:
        for api in self.apis.values():
            api.close()

    def progress(self) -> Progress:
        return Progress(
            TextColumn("  {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )

    def parallel(
        self,
        description: str,
        items: Sequence[Item],
        work: Callable[[Item], Result],
        *,
        workers: int = POOL,
    ) -> list[Result]:
        """``work`` over ``items`` on a bounded pool, with a progress bar; in order."""
        with self.progress() as progress, bounded_pool(workers) as pool:
            task = progress.add_task(description, total=len(items))

            def tracked(item: Item) -> Result:
                result = work(item)
                progress.advance(task)
                return result

            return list(pool.map(tracked, items))

    def at(self, positions: Iterable[int]) -> list[Certificate]:
        return [self.certificates[p] for p in positions]


# --- the steps ------------------------------------------------------------------------


def start_network(ctx: DemoContext, step: StepRecord) -> None:
    """The member nodes and their chain (anvil, VN's node deploying the consortium, KR's
    and SG's joining; or the members of `docex network`); users."""
    network = ctx.network
    network.start()
    for what, where, pid in network.started():
        note(ctx.console, f"{what} on {where} (PID {pid})")

    def add(user: tuple[str, str, str, str]) -> str:
        name, country, role, types = user
        return network.add_user(country, name, role, types)

    with bounded_pool(len(USERS)) as pool:
        tokens = list(pool.map(add, USERS))
    for (name, country, role, _), token in zip(USERS, tokens, strict=True):
        ctx.apis[name] = NodeApi(name, network.url(country), token)
        note(ctx.console, f"{name}: {role} on {country}'s node (docex users add)")
    ready = {
        country: ctx.api(name).get("/readyz").status_code
        for country, name in (
            ("VN", "vn-trade-ministry"),
            ("KR", "kr-customs"),
            ("SG", "sg-customs"),
        )
    }
    step.count(
        "three member nodes ready: store, chain and index (GET /readyz)",
        sum(status == 200 for status in ready.values()),
        3,
        ", ".join(f"{c} {s}" for c, s in ready.items()),
    )


def issue(ctx: DemoContext, step: StepRecord) -> None:
    """VN's trade ministry issues the certificates, addressed to KR, until anchored."""
    ministry = ctx.api("vn-trade-ministry")
    ctx.certificates = [
        Certificate(p, certificate_for_korea(p)) for p in range(ctx.plan.certificates)
    ]
    chunks = [
        ctx.certificates[start : start + ISSUE_CHUNK]
        for start in range(0, len(ctx.certificates), ISSUE_CHUNK)
    ]

    refusals: list[str] = []

    def send(chunk: list[Certificate]) -> int:
        answer = ministry.post(
            "/v1/documents",
            params={"confidential": "true"},
            json=[c.source for c in chunk],
            headers={"Idempotency-Key": f"demo-{ctx.run_id}-issue-{chunk[0].position}"},
        )
        if answer.status_code != 202:
            refusals.append(f"{answer.status_code}: {_problem_detail(answer)}")
            return 0
        for certificate, receipt in zip(chunk, answer.json()["receipts"], strict=True):
            certificate.receipt_id = receipt["id"]
        return len(chunk)

    with ctx.progress() as progress, bounded_pool(ISSUE_PARALLEL) as pool:
        accepting = progress.add_task("issued (202)", total=len(ctx.certificates))
        anchoring = progress.add_task("anchored on chain", total=len(ctx.certificates))
        for sent in pool.map(send, chunks):
            progress.advance(accepting, sent)
        accepted = sum(1 for c in ctx.certificates if c.receipt_id)
        step.count(
            f"VN's node accepts every certificate (202), {ISSUE_CHUNK} per request",
            accepted,
            len(ctx.certificates),
            f"{len(refusals)} requests refused, first {refusals[0]}" if refusals else "",
        )
        if refusals:
            raise DemoAborted("VN's node refused certificates: nothing to go on with")

        def anchored(certificate: Certificate) -> str:
            receipt = ministry.json("GET", f"/v1/receipts/{certificate.receipt_id}")
            if receipt["status"] == "anchored":
                certificate.target_hash = receipt["targetHash"]
                certificate.wrapped = receipt["document"]
                progress.advance(anchoring)
            return str(receipt["status"])

        deadline = time.monotonic() + CATCH_UP
        pending = list(ctx.certificates)
        failed: list[Certificate] = []
        while pending and time.monotonic() < deadline:
            statuses = list(pool.map(anchored, pending))
            failed += [c for c, s in zip(pending, statuses, strict=True) if s == "failed"]
            pending = [c for c, s in zip(pending, statuses, strict=True) if s == "pending"]
            if pending:
                time.sleep(0.2)
    done = sum(1 for c in ctx.certificates if c.target_hash)
    step.count(
        "every certificate anchored (receipt with Merkle proof, batch root, block)",
        done,
        len(ctx.certificates),
        f"{len(failed)} failed, {len(pending)} still pending"
        if done < len(ctx.certificates)
        else "",
    )
    if done < len(ctx.certificates):
        raise DemoAborted("not every certificate was anchored")


def receive(ctx: DemoContext, step: StepRecord) -> None:
    """KR's node receives every certificate (its inbox) before any is declared."""
    officer = ctx.api("kr-customs")
    wanted = {c.target_hash for c in ctx.certificates}
    listed: dict[str, ApiJson] = {}
    started = time.monotonic()

    def everything_received() -> bool | None:
        cursor: dict[str, Any] = {}
        while True:
            params: dict[str, Any] = {"issuerCountry": "VN", "documentType": "coo/1", "limit": 1000}
            answer = officer.json("GET", "/v1/inbox", params={**params, **cursor})
            for entry in answer["documents"]:
                listed[entry["targetHash"]] = entry
            if not answer.get("next"):
                break
            cursor = answer["next"]  # keyset paging: the next page starts after this one
        return True if wanted <= set(listed) else None

    with contextlib.suppress(DemoAborted):  # counted below
        wait_for("KR's inbox", everything_received, CATCH_UP)
    received = [listed[h] for h in wanted if h in listed]
    step.count(
        "KR's node received every certificate into its inbox (fetched from VN's gateway, "
        "opened with KR's member key)",
        len(received),
        len(wanted),
        f"in {time.monotonic() - started:.1f} s after the last anchor",
    )
    step.count(
        "every received certificate was valid at reception, before any import declaration",
        sum(1 for d in received if d["valid"] and d["confidential"]),
        len(wanted),
    )
    if len(received) < len(wanted):
        raise DemoAborted("KR did not receive every certificate")


def verify(ctx: DemoContext, step: StepRecord) -> None:
    """KR customs takes each certificate from its inbox and verifies it on KR's node."""
    officer = ctx.api("kr-customs")

    def verified(certificate: Certificate) -> bool:
        received = officer.json("GET", f"/v1/inbox/{certificate.target_hash}")
        certificate.received = received["document"]
        verdict = officer.json("POST", "/v1/verify", json=certificate.received)
        return bool(verdict["valid"]) and all(
            check["status"] == "valid" for check in verdict["checks"]
        )

    results = ctx.parallel("verified on KR's node", ctx.certificates, verified)
    step.count(
        "every certificate verifies on KR's node: integrity, signature, issuance, issuer, "
        "status, recognition",
        sum(results),
        len(results),
    )
    step.count(
        "KR received the very document VN issued",
        sum(1 for c in ctx.certificates if c.received == c.wrapped),
        len(ctx.certificates),
    )


def _declaration(certificate: Certificate) -> str:
    return f"KR-IMP-2026-{certificate.position + 1:07d}"


def use_and_reject(ctx: DemoContext, step: StepRecord) -> None:
    """KR customs uses certificates against import declarations and rejects some."""
    officer = ctx.api("kr-customs")

    def used(certificate: Certificate) -> bool:
        answer = officer.post(
            f"/v1/documents/{certificate.target_hash}/use",
            json={
                "declarationReference": _declaration(certificate),
                "document": certificate.received,
            },
        )
        return answer.status_code == 200

    def rejected(certificate: Certificate) -> bool:
        code = list(REJECTION_REASONS)[certificate.position % len(REJECTION_REASONS)]
        answer = officer.post(
            f"/v1/documents/{certificate.target_hash}/reject",
            json={"reasonCode": code, "document": certificate.received},
        )
        return answer.status_code == 200

    uses = ctx.parallel("used against declarations", ctx.at(ctx.plan.used_positions), used)
    step.count("KR records each use on chain (200)", sum(uses), len(uses))
    rejections = ctx.parallel(
        "rejected with a reason", ctx.at(ctx.plan.rejected_positions), rejected
    )
    step.count(
        "KR records each rejection with its reason code (200)", sum(rejections), len(rejections)
    )
    for code, reason in REJECTION_REASONS.items():
        note(ctx.console, f"reason {code}: {reason}")


def reuse_refused(ctx: DemoContext, step: StepRecord) -> None:
    """A certificate already used is presented against a second declaration."""
    certificate = ctx.certificates[ctx.plan.used_positions[0]]
    answer = ctx.api("kr-customs").post(
        f"/v1/documents/{certificate.target_hash}/use",
        json={"declarationReference": "KR-IMP-2026-SECOND-USE", "document": certificate.received},
    )
    detail = answer.json().get("detail", "") if answer.status_code != 200 else "recorded"
    step.expect(
        f"a second use of {certificate.source['certificateNumber']} is refused (409)",
        answer.status_code == 409,
        f"{answer.status_code}: {detail}",
    )


def _events(history: ApiJson) -> list[ApiJson]:
    events = history.get("events")
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def feedback(ctx: DemoContext, step: StepRecord) -> None:
    """VN's node shows KR's feedback: each document's history carries the use or rejection."""
    ministry = ctx.api("vn-trade-ministry")
    wanted = {
        **{c.position: "DocumentUsed" for c in ctx.at(ctx.plan.used_positions)},
        **{c.position: "DocumentRejected" for c in ctx.at(ctx.plan.rejected_positions)},
    }
    seen: dict[int, ApiJson] = {}

    #: answers that were not a history (asked again until CATCH_UP; the last one is shown)
    refused: list[str] = []

    def history(certificate: Certificate) -> None:
        path = f"/v1/documents/{certificate.receipt_id}/history"
        try:
            answer = ministry.request("GET", path)
        except DemoAborted as error:  # the connection failed: asked again, said if it lasts
            refused.append(str(error))
            return
        if answer.status_code != 200:
            refused.append(f"GET {path} answered {answer.status_code}: {answer.text[:300]}")
            return
        if any(e["event"] == wanted[certificate.position] for e in _events(answer.json())):
            seen[certificate.position] = answer.json()

    def all_seen() -> bool | None:
        missing = [ctx.certificates[p] for p in wanted if p not in seen]
        ctx.parallel("histories read on VN's node", missing, history)
        return True if len(seen) == len(wanted) else None

    with contextlib.suppress(DemoAborted):  # counted below, with the last refusal if any
        wait_for("VN's index to show KR's feedback", all_seen, CATCH_UP)
    used = [p for p in ctx.plan.used_positions if p in seen]
    rejected = [p for p in ctx.plan.rejected_positions if p in seen]
    step.count(
        "VN sees each use by KR in the document's history",
        len(used),
        ctx.plan.used,
        refused[-1] if refused and len(seen) < len(wanted) else "",
    )
    codes = sorted(
        {
            int(e["arguments"]["reasonCode"])
            for p in rejected
            for e in _events(seen[p])
            if e["event"] == "DocumentRejected"
        }
    )
    step.count(
        "VN sees each rejection by KR with its reason code",
        len(rejected),
        ctx.plan.rejected,
        "reason codes " + ", ".join(map(str, codes)),
    )


def _kr_verdict(ctx: DemoContext, certificate: Certificate) -> ApiJson:
    verdict: ApiJson = ctx.api("kr-customs").json("POST", "/v1/verify", json=certificate.received)
    return verdict


def _status_check(verdict: ApiJson) -> ApiJson:
    checks = verdict.get("checks")
    assert isinstance(checks, list)
    found: ApiJson = next(c for c in checks if isinstance(c, dict) and c["name"] == "status")
    return found


def amend(ctx: DemoContext, step: StepRecord) -> None:
    """VN amends certificates: each replacement supersedes its original."""
    ministry = ctx.api("vn-trade-ministry")
    originals = ctx.at(ctx.plan.amended_positions)
    for original in originals:
        replacement_source = amended_certificate(original.source)
        body = ministry.json(
            "POST",
            f"/v1/documents/{original.receipt_id}/amend",
            expect=202,
            json=replacement_source,
        )
        ctx.replacements[original.position] = Certificate(
            original.position, replacement_source, receipt_id=body["receipts"][0]["id"]
        )

    def superseded() -> bool | None:
        for original in originals:
            replacement = ctx.replacements[original.position]
            if not replacement.target_hash:
                receipt = ministry.json("GET", f"/v1/receipts/{replacement.receipt_id}")
                if receipt["status"] == "failed":
                    raise DemoAborted(f"the replacement failed to anchor: {receipt.get('error')}")
                if receipt["status"] == "anchored":
                    replacement.target_hash = receipt["targetHash"]
                    replacement.wrapped = replacement.received = receipt["document"]
        if not all(ctx.replacements[o.position].target_hash for o in originals):
            return None
        for original in originals:
            status = _status_check(_kr_verdict(ctx, original))
            successor = ctx.replacements[original.position].target_hash
            if status.get("code") != CheckCode.SUPERSEDED or (
                status.get("data", {}).get("successorTargetHash") != successor
            ):
                return None
        return True

    try:
        wait_for("the supersessions to reach KR's node", superseded, CATCH_UP)
    except DemoAborted as error:
        note(ctx.console, str(error))
    pointing = 0
    for original in originals:
        replacement = ctx.replacements[original.position]
        status = _status_check(_kr_verdict(ctx, original))
        if (
            replacement.target_hash
            and status["status"] == "invalid"
            and status.get("code") == CheckCode.SUPERSEDED
            and (status.get("data", {}).get("successorTargetHash") == replacement.target_hash)
        ):
            pointing += 1
            note(
                ctx.console,
                f"{original.source['certificateNumber']}: {status['reason']}",
            )
    step.count(
        "verifying each original on KR's node fails `status` and points to its replacement",
        pointing,
        len(originals),
    )
    valid = sum(
        1
        for original in originals
        if ctx.replacements[original.position].target_hash
        and _kr_verdict(ctx, ctx.replacements[original.position])["valid"]
    )
    step.count("each replacement verifies on KR's node", valid, len(originals))


def _revoked(status: ApiJson) -> bool:
    return status["status"] == "invalid" and status.get("code") == CheckCode.REVOKED


def revoke(ctx: DemoContext, step: StepRecord) -> None:
    """VN revokes certificates; KR's node then refuses them."""
    ministry = ctx.api("vn-trade-ministry")
    code, reason = REVOCATION_REASON
    revoked = ctx.at(ctx.plan.revoked_positions)
    answers = [
        ministry.post(f"/v1/documents/{c.receipt_id}/revoke", json={"reasonCode": code})
        for c in revoked
    ]
    step.count(
        f"VN revokes each on chain (reason {code}: {reason})",
        sum(1 for a in answers if a.status_code == 200),
        len(revoked),
    )

    def refused_on_kr() -> bool | None:
        statuses = [_status_check(_kr_verdict(ctx, c)) for c in revoked]
        return True if all(_revoked(s) for s in statuses) else None

    with contextlib.suppress(DemoAborted):  # counted below
        wait_for("the revocations to reach KR's node", refused_on_kr, CATCH_UP)
    statuses = [_status_check(_kr_verdict(ctx, c)) for c in revoked]
    step.count(
        "verifying each on KR's node fails `status`: revoked",
        sum(1 for s in statuses if _revoked(s)),
        len(revoked),
        str(statuses[0]["reason"]) if statuses else "",
    )


def recognition(ctx: DemoContext, step: StepRecord) -> None:
    """An SG officer verifies a VN certificate: SG has no agreement with VN for it."""
    certificate = next(iter(ctx.replacements.values()))  # a current, unused certificate
    sg = ctx.api("sg-customs")

    def indexed() -> ApiJson | None:
        verdict: ApiJson = sg.json("POST", "/v1/verify", json=certificate.wrapped)
        checks = {c["name"]: c for c in verdict["checks"]}
        return verdict if checks["issuance"].get("code") == CheckCode.ANCHORED else None

    verdict = wait_for("SG's index to hold the certificate's batch", indexed, CATCH_UP)
    checks = {c["name"]: c for c in verdict["checks"]}
    step.expect(
        "SG's node says: not recognised (no agreement in force)",
        verdict["valid"] is False
        and checks["recognition"]["status"] == "invalid"
        and checks["recognition"].get("code") == CheckCode.NO_AGREEMENT,
        f"recognition {checks['recognition']['status']}: {checks['recognition']['reason']}",
    )
    others = [name for name, check in checks.items() if name != "recognition"]
    step.count(
        "every other check holds on SG's node (the certificate itself is sound)",
        sum(1 for name in others if checks[name]["status"] == "valid"),
        len(others),
    )


def audit(ctx: DemoContext, step: StepRecord) -> None:
    """An auditor exports one document's provenance and re-checks it against the chain."""
    certificate = ctx.certificates[ctx.plan.used_positions[0]]
    answer = ctx.api("vn-auditor").get(
        "/v1/audit", params={"document": certificate.receipt_id, "format": "json"}
    )
    step.expect(
        f"the auditor exports the provenance of {certificate.source['certificateNumber']}",
        answer.status_code == 200,
        f"GET /v1/audit answered {answer.status_code}",
    )
    if answer.status_code != 200:
        raise DemoAborted(f"GET /v1/audit answered {answer.status_code}: {answer.text[:300]}")
    report = answer.json()
    events = report.get("events", []) if isinstance(report, dict) else []
    names = sorted({str(e.get("event")) for e in events if isinstance(e, dict)})
    step.expect(
        "the report holds the document's anchoring and KR's use",
        {"BatchAnchored", "DocumentUsed"} <= set(names),
        f"{len(events)} lines: " + ", ".join(names),
    )
    # the auditor knows the consortium's DocumentRegistry from its deployment, not from
    # the report, and asks the chain itself (plain JSON-RPC), not the node
    registry = Deployment.read(ctx.network.data_dir("VN")).document_registry
    expected = "every line of the report holds against the chain (an ordinary Ethereum client)"
    try:
        check = check_report(report, ctx.network.rpc_url, registry=registry)
    except DocexError as error:
        step.expect(expected, False, f"{error.code}: {error}")
        return
    step.expect(
        expected,
        check.holds,
        f"{len(events)} of {len(events)} lines hold"
        if check.holds
        else "; ".join(check.failures)[:500],
    )
