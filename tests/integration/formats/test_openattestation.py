"""OpenAttestation v2: documents made now by OA's own library, judged by docex and by OA.

Every document (valid, obfuscated, tampered) is verified in the same run by OA's own
``verifySignature``; docex's ``signature_valid`` (target hash + Merkle proof) must agree,
and the check that fails must be the one that names the tampering.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from adapters.formats import DocumentFormat, detect_document_format
from adapters.formats.openattestation import (
    OA_DNS_IDENTITY,
    OA_INTEGRITY,
    OA_ISSUANCE,
    OA_ISSUER_IDENTITY,
    OA_MERKLE_PROOF,
    OA_REVOCATION,
    OA_TARGET_HASH,
    TrustedDocumentStore,
    verify_openattestation,
)
from certificates import parse_strict_json
from certificates.check_codes import CheckCode
from certificates.verdict import CheckStatus

RunReference = Callable[[str, dict[str, Any]], Any]

STORE = "0x9178F546D3FF57D7A6352bD61B80cCCD46199C2d"


def _certificate(number: int) -> dict[str, Any]:
    """A TradeTrust-style certificate of origin, in OA v2's raw (unwrapped) shape."""
    return {
        "$template": {"name": "COO", "type": "EMBEDDED_RENDERER", "url": "https://r.example"},
        "issuers": [
            {
                "name": "Ministry of Industry and Trade",
                "documentStore": STORE,
                "identityProof": {"type": "DNS-TXT", "location": "moit.example.vn"},
            }
        ],
        "certificateNumber": f"VN-SG 24/02/{number:07d}",
        "exporter": {"name": "Công ty Cà phê Việt", "address": "12 Lê Lợi\nQuận 1, TP HCM"},
        "importer": {"name": "한국 커피 주식회사", "address": 'Seoul "Gangnam" 5\t\\'},
        "items": [
            {"hsCode": "0901.11", "originCriterion": "WO", "quantity": 19.5, "packages": 120},
            {"hsCode": "0901.21", "originCriterion": "RVC 40%", "quantity": 3, "packages": 7},
        ],
        "backToBack": False,
        "remarks": None,
        "attachments": [],
        "links": {},
    }


@pytest.fixture(scope="module")
def oa_documents(run_reference: RunReference) -> dict[str, Any]:
    made = run_reference(
        "openattestation.cjs",
        {
            "action": "wrap",
            "documents": [_certificate(n) for n in range(3)],
            "obfuscate": [[0, ["importer.address", "items.1.packages"]], [1, ["remarks"]]],
        },
    )
    other_batch = run_reference(
        "openattestation.cjs", {"action": "wrap", "documents": [_certificate(9)]}
    )
    return {**made, "other_root": other_batch["wrapped"][0]["signature"]["merkleRoot"]}


def _resalt(salted: str, *, value: str | None = None, salt: str | None = None) -> str:
    old_salt, kind, old_value = salted.split(":", 2)
    return f"{salt or old_salt}:{kind}:{value if value is not None else old_value}"


def _flip(hex_text: str) -> str:
    return ("0" if hex_text[0] != "0" else "1") + hex_text[1:]


def _tampered(documents: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """Each tampering, and the docex check that must catch it."""
    base = documents["wrapped"][0]
    cases: dict[str, tuple[dict[str, Any], str]] = {}

    def case(name: str, check: str, change: Any, source: dict[str, Any] = base) -> None:
        document = copy.deepcopy(source)
        change(document)
        cases[name] = (document, check)

    def set_data(path: list[str | int], **kwargs: str) -> Any:
        def change(document: dict[str, Any]) -> None:
            node = document["data"]
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = _resalt(node[path[-1]], **kwargs)

        return change

    case("changed value", OA_TARGET_HASH, set_data(["certificateNumber"], value="VN-SG 1"))
    case("changed number", OA_TARGET_HASH, set_data(["items", 0, "quantity"], value="19.6"))
    case(
        "changed issuer store",
        OA_TARGET_HASH,
        set_data(["issuers", 0, "documentStore"], value="0x" + "11" * 20),
    )
    case("changed salt", OA_TARGET_HASH, set_data(["exporter", "name"], salt=str(uuid.uuid4())))
    case("removed field", OA_TARGET_HASH, lambda d: d["data"]["exporter"].pop("address"))
    case(
        "added field", OA_TARGET_HASH, lambda d: d["data"].update(extra=f"{uuid.uuid4()}:string:x")
    )
    case(
        "changed target hash",
        OA_TARGET_HASH,
        lambda d: d["signature"].update(targetHash=_flip(d["signature"]["targetHash"])),
    )
    case(
        "upper-case target hash",
        OA_TARGET_HASH,
        lambda d: d["signature"].update(targetHash=d["signature"]["targetHash"].upper()),
    )
    case(
        "bad proof",
        OA_MERKLE_PROOF,
        lambda d: d["signature"]["proof"].__setitem__(0, _flip(d["signature"]["proof"][0])),
    )
    case("dropped proof step", OA_MERKLE_PROOF, lambda d: d["signature"]["proof"].pop())
    case(
        "wrong root",
        OA_MERKLE_PROOF,
        lambda d: d["signature"].update(merkleRoot=documents["other_root"]),
    )
    case(
        "another document's target hash",
        OA_TARGET_HASH,
        lambda d: d["signature"].update(
            targetHash=documents["wrapped"][1]["signature"]["targetHash"]
        ),
    )
    obfuscated = documents["obfuscated"][0]
    case(
        "changed obfuscated hash",
        OA_TARGET_HASH,
        lambda d: d["privacy"]["obfuscatedData"].__setitem__(
            0, _flip(d["privacy"]["obfuscatedData"][0])
        ),
        obfuscated,
    )
    case(
        "obfuscated hash dropped",
        OA_TARGET_HASH,
        lambda d: d["privacy"]["obfuscatedData"].pop(),
        obfuscated,
    )
    case(
        "obfuscated value put back changed",
        OA_TARGET_HASH,
        lambda d: d["data"]["importer"].update(address=f"{uuid.uuid4()}:string:elsewhere"),
        obfuscated,
    )
    return cases


def _ours(document: dict[str, Any]) -> Any:
    # the node's path: strict bytes -> JSON value -> format -> checks
    value = parse_strict_json(json.dumps(document, ensure_ascii=False).encode())
    assert detect_document_format(value) is DocumentFormat.OPENATTESTATION_V2
    return verify_openattestation(
        value, trusted_stores=[TrustedDocumentStore(STORE.lower(), "VN MOIT (TradeTrust)")]
    )


def test_verdicts_agree_with_openattestation(
    oa_documents: dict[str, Any], run_reference: RunReference
) -> None:
    genuine = {f"wrapped {i}": d for i, d in enumerate(oa_documents["wrapped"])}
    genuine |= {f"obfuscated {i}": d for i, d in enumerate(oa_documents["obfuscated"])}
    tampered = _tampered(oa_documents)
    names = [*genuine, *tampered]
    documents = [*genuine.values(), *(document for document, _ in tampered.values())]
    theirs = run_reference("openattestation.cjs", {"action": "verify", "documents": documents})
    verdicts = dict(zip(names, theirs["verdicts"], strict=True))

    for name, document in genuine.items():
        assert verdicts[name] is True, name  # OA's own library accepts what it made
        ours = _ours(document)
        assert ours.signature_valid, (name, ours.verdict.to_json())
        assert ours.verdict.check(OA_INTEGRITY).status is CheckStatus.VALID
        assert [check.code for check in ours.verdict.checks[:3]] == [
            CheckCode.OA_SALTED,
            CheckCode.OA_TARGET_HASH_MATCHES,
            CheckCode.OA_PROOF_VALID,
        ]

    for name, (document, check) in tampered.items():
        assert verdicts[name] is False, name  # OA rejects every tampering
        ours = _ours(document)
        assert not ours.signature_valid, name
        assert ours.verdict.check(check).status is CheckStatus.INVALID, (name, check)
        expected = {
            OA_TARGET_HASH: CheckCode.TARGET_HASH_MISMATCH,
            OA_MERKLE_PROOF: CheckCode.PROOF_INVALID,
        }
        assert ours.verdict.check(check).code is expected[check], name
        assert not ours.verdict.valid


def test_obfuscated_fields_are_hidden_and_counted(oa_documents: dict[str, Any]) -> None:
    ours = _ours(oa_documents["obfuscated"][0])
    assert "address" not in ours.data["importer"]
    assert "packages" not in ours.data["items"][1]
    integrity = ours.verdict.check(OA_INTEGRITY)
    assert integrity.data["obfuscatedFields"] == len(
        oa_documents["obfuscated"][0]["privacy"]["obfuscatedData"]
    )


def test_values_are_read_unsalted(oa_documents: dict[str, Any]) -> None:
    ours = _ours(oa_documents["wrapped"][2])
    assert ours.data["certificateNumber"] == "VN-SG 24/02/0000002"
    assert ours.data["importer"]["name"] == "한국 커피 주식회사"
    assert ours.data["items"][0]["quantity"] == 19.5
    assert ours.data["items"][1]["packages"] == 7
    assert ours.data["backToBack"] is False
    assert ours.data["remarks"] is None
    assert ours.issuers[0].store == STORE


def test_issuer_identity_comes_from_the_trusted_list_and_dns_is_never_passed(
    oa_documents: dict[str, Any],
) -> None:
    document = oa_documents["wrapped"][0]
    trusted = _ours(document).verdict
    assert trusted.check(OA_ISSUER_IDENTITY).status is CheckStatus.VALID
    dns = trusted.check(OA_DNS_IDENTITY)
    assert dns.status is CheckStatus.SKIPPED
    assert dns.code is CheckCode.DNS_UNREACHABLE
    assert "moit.example.vn" in dns.reason
    assert "closed network" in dns.reason

    untrusted = verify_openattestation(document, trusted_stores=[]).verdict
    assert untrusted.check(OA_ISSUER_IDENTITY).status is CheckStatus.INVALID
    assert untrusted.check(OA_ISSUER_IDENTITY).code is CheckCode.OA_UNTRUSTED_STORE
    assert STORE in untrusted.check(OA_ISSUER_IDENTITY).reason
    assert not untrusted.valid


def test_without_a_chain_issuance_and_revocation_are_skipped_not_passed(
    oa_documents: dict[str, Any],
) -> None:
    verdict = _ours(oa_documents["wrapped"][0]).verdict
    for name in (OA_ISSUANCE, OA_REVOCATION):
        assert verdict.check(name).status is CheckStatus.SKIPPED
        assert "no chain" in verdict.check(name).reason
        assert verdict.check(name).code is CheckCode.NO_CHAIN


def test_unsalted_value_fails_integrity_though_it_hashes(
    oa_documents: dict[str, Any], run_reference: RunReference
) -> None:
    """A document whose issuer hashed an unsalted value: OA's verifySignature passes it;
    docex reports it (guessable values), while agreeing on the signature itself."""
    raw = _certificate(5)
    made = run_reference("openattestation.cjs", {"action": "wrap", "documents": [raw]})
    document = made["wrapped"][0]
    from adapters.formats.openattestation.digest import digest_document

    document["data"]["certificateNumber"] = "plain text"
    document["signature"]["targetHash"] = document["signature"]["merkleRoot"] = digest_document(
        document["data"], []
    )
    theirs = run_reference("openattestation.cjs", {"action": "verify", "documents": [document]})
    ours = _ours(document)
    assert theirs["verdicts"] == [True]
    assert ours.signature_valid
    integrity = ours.verdict.check(OA_INTEGRITY)
    assert integrity.status is CheckStatus.INVALID
    assert integrity.code is CheckCode.OA_UNSALTED
    assert "data.certificateNumber" in integrity.reason


# --- issuance and revocation against OA's own DocumentStore, deployed on eth-tester -------


@pytest.fixture(scope="module")
def document_store(run_reference: RunReference) -> Any:
    from web3 import EthereumTesterProvider, Web3

    artifact = run_reference("document_store_artifact.cjs", {})
    w3 = Web3(EthereumTesterProvider())
    owner = w3.eth.accounts[0]
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor("VN MOIT", owner).transact({"from": owner})
    address = w3.eth.get_transaction_receipt(tx)["contractAddress"]
    contract = w3.eth.contract(address=address, abi=artifact["abi"])
    return w3, owner, contract


def test_issued_then_revoked_in_a_real_document_store(
    document_store: Any, run_reference: RunReference
) -> None:
    from adapters.formats.openattestation import DocumentStoreCalls, document_store_abi

    w3, owner, contract = document_store
    raw = [_certificate(n) for n in (20, 21, 22)]
    for document in raw:
        document["issuers"][0]["documentStore"] = contract.address
    wrapped = run_reference("openattestation.cjs", {"action": "wrap", "documents": raw})["wrapped"]
    # the integrator's binding: one eth_call, through any client (here web3.py)
    reader = DocumentStoreCalls(lambda to, data: bytes(w3.eth.call({"to": to, "data": data})))
    trusted = [TrustedDocumentStore(contract.address, "VN MOIT")]

    def verdict(document: dict[str, Any]) -> Any:
        return verify_openattestation(
            document, trusted_stores=trusted, document_store=reader
        ).verdict

    before = verdict(wrapped[0])
    assert before.check(OA_ISSUANCE).status is CheckStatus.INVALID
    assert "has not issued" in before.check(OA_ISSUANCE).reason

    root = bytes.fromhex(wrapped[0]["signature"]["merkleRoot"])
    contract.functions.issue(root).transact({"from": owner})
    issued = verdict(wrapped[0])
    assert issued.check(OA_ISSUANCE).status is CheckStatus.VALID
    assert issued.check(OA_REVOCATION).status is CheckStatus.VALID
    assert issued.check(OA_DNS_IDENTITY).status is CheckStatus.SKIPPED
    assert issued.valid  # skipped DNS neither passes nor fails; everything that ran passed

    contract.functions.revoke(bytes.fromhex(wrapped[1]["signature"]["targetHash"])).transact(
        {"from": owner}
    )
    revoked = verdict(wrapped[1])
    assert revoked.check(OA_ISSUANCE).status is CheckStatus.VALID
    assert revoked.check(OA_REVOCATION).status is CheckStatus.INVALID
    assert revoked.check(OA_REVOCATION).code is CheckCode.REVOKED
    assert wrapped[1]["signature"]["targetHash"] in revoked.check(OA_REVOCATION).reason
    assert verdict(wrapped[2]).check(OA_REVOCATION).status is CheckStatus.VALID

    contract.functions.revoke(root).transact({"from": owner})  # the whole batch
    assert verdict(wrapped[2]).check(OA_REVOCATION).status is CheckStatus.INVALID
    names = [entry["name"] for entry in document_store_abi() if isinstance(entry, dict)]
    assert names == ["isIssued", "isRevoked"]


def test_a_contract_that_is_not_a_document_store_is_an_error(oa_documents: dict[str, Any]) -> None:
    from adapters.formats.openattestation import DocumentStoreCalls

    reader = DocumentStoreCalls(lambda to, data: b"")
    verdict = verify_openattestation(oa_documents["wrapped"][0], document_store=reader).verdict
    assert verdict.check(OA_ISSUANCE).status is CheckStatus.ERROR
    assert verdict.check(OA_ISSUANCE).code is CheckCode.OA_STORE_UNREADABLE
    assert "is it a DocumentStore" in verdict.check(OA_ISSUANCE).reason


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rng.choice([0, -1, 7, 2**53 - 1, 1.5, 0.1, 1e21, 1e-7, 0.000001, -2.5e-9, 123e30])
    if kind == 1:
        return rng.choice([True, False, None])
    if kind in (2, 3, 4, 5):
        alphabet = 'aZ09 :-"\\\n\t\u0001\u007f\u00e9\u1ec7\ud55c\u2028\U0001f600'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind in (6, 7):
        return {
            f"k{rng.randrange(100)}": _random_json(rng, depth + 1) for _ in range(rng.randrange(4))
        }
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_our_digest_equals_openattestations_on_arbitrary_data(run_reference: RunReference) -> None:
    """Unsalted values, numbers JavaScript prints its own way, escapes, empty containers,
    astral characters: the target hash we compute is the one OA's digestDocument computes."""
    from adapters.formats.openattestation.digest import NotDigestable, digest_document

    rng = random.Random(14)
    documents: list[dict[str, Any]] = [
        {"data": {"a": {}, "b": [], "c": [[], {}], "d": None}},
        {"data": {"dotted.key": "x"}},
        {
            "data": {"n": 1e21, "m": 0.000001, "o": 1e-7, "p": -0.0},
            "privacy": {"obfuscatedData": ["ff" * 32, "00" * 32]},
        },
    ]
    documents += [{"data": {"root": _random_json(rng)}} for _ in range(60)]
    theirs = run_reference("openattestation.cjs", {"action": "digest", "documents": documents})
    for document, their_digest in zip(documents, theirs["digests"], strict=True):
        obfuscated = document.get("privacy", {}).get("obfuscatedData", [])
        try:
            ours = digest_document(document["data"], obfuscated)
        except NotDigestable:
            ours = "error"
        expected = "error" if their_digest.startswith("error") else their_digest
        assert ours == expected, document


def test_the_verdict_reads_as_json(oa_documents: dict[str, Any]) -> None:
    shown = _ours(oa_documents["obfuscated"][1]).to_json()
    assert shown["format"] == "openattestation/2"
    assert shown["valid"] is True
    assert shown["signatureValid"] is True
    assert [check["name"] for check in shown["checks"]] == [  # type: ignore[union-attr,index]
        OA_INTEGRITY,
        OA_TARGET_HASH,
        OA_MERKLE_PROOF,
        OA_ISSUER_IDENTITY,
        OA_DNS_IDENTITY,
        OA_ISSUANCE,
        OA_REVOCATION,
    ]
    assert "remarks" not in shown["data"]  # type: ignore[operator]
    json.dumps(shown)
